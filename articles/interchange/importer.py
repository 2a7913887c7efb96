"""Reading interchange documents: parse, normalise, validate completely, then write atomically.

Every text in a document is first normalised the one way all text is
(``articles.text``: LF line endings, NFC, no surrounding whitespace); text with
characters that may not be stored is refused. Validation collects every problem
before anything is written, each naming the field by its path in the document
(``revision.sections[2].body``), so an author can fix a file in one pass.
Nothing is written unless all is well.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from articles import json_input, rendering
from articles.kinds import extension_for
from articles.models import (
    ActionStep,
    Article,
    ComparisonCell,
    ComparisonColumn,
    ComparisonRow,
    ComparisonTable,
    Medication,
    Reference,
    Revision,
    SafetyCallout,
    Section,
    Symptom,
    SymptomEntry,
)
from articles.text import forbidden_character_problem, lookalike_key, normalise_text

from . import FORMAT_NAME, FORMAT_VERSION
from .schema import SCHEMA, SINGLE_LINE_PATTERN


@dataclass(frozen=True)
class DocumentFormat:
    """An interchange format: its name and version, its schema, the kind of article it holds,
    and any checks beyond the article's own (another kind's rows, say)."""

    name: str
    version: int
    schema: dict[str, Any]
    kind: str
    extra_problems: Callable[[dict[str, Any]], Iterable[Problem]] | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import file, at a path such as ``revision.sections[0].key``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ImportRejected(Exception):
    """The file was not imported; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def path_text(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


# --- Parsing ------------------------------------------------------------------


def load_document(raw: bytes) -> Any:
    """Parse the bytes of an import file, refusing oversized, too deeply nested or malformed files."""
    limit = settings.ARTICLE_IMPORT_MAX_BYTES
    if len(raw) > limit:
        raise ImportRejected([Problem("(file)", f"the file is {len(raw):,} bytes; the limit is {limit:,} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ImportRejected([Problem("(file)", f"not UTF-8 text (byte {error.start})")]) from None
    try:
        return json_input.loads(text)
    except json_input.JSONTooDeep as error:
        raise ImportRejected([Problem("(file)", f"the JSON is {error}")]) from None
    except json.JSONDecodeError as error:
        raise ImportRejected(
            [Problem("(file)", f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}")]
        ) from None
    except ValueError as error:
        raise ImportRejected([Problem("(file)", f"not valid: {error}")]) from None


# --- Text: normalised once, here, for every kind of document -------------------


def normalise_document(document: Any, at: tuple[str | int, ...] = ()) -> tuple[Any, list[Problem]]:
    """A copy of ``document`` with every text normalised, and the texts that hold refused characters.

    Walks the document without recursion, so a deeply nested file cannot
    exhaust the stack here. Member names are left as they are: they are keys,
    checked against the keys they refer to.
    """
    problems: list[Problem] = []

    def clean(value: Any, where: tuple[str | int, ...]) -> Any:
        if isinstance(value, str):
            value = normalise_text(value)
            problem = forbidden_character_problem(value)
            if problem is not None:
                problems.append(Problem(path_text(where), f"{problem}; remove it"))
        return value

    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, tuple[str | int, ...]]] = [(document, root, 0, at)]
    while stack:
        value, parent, slot, where = stack.pop()
        if isinstance(value, dict):
            copied: Any = {}
            for name, item in value.items():
                copied[name] = None
                stack.append((item, copied, name, (*where, name)))
        elif isinstance(value, list):
            copied = [None] * len(value)
            for index, item in enumerate(value):
                stack.append((item, copied, index, (*where, index)))
        else:
            copied = clean(value, where)
        parent[slot] = copied
    problems.sort(key=lambda problem: problem.path)
    return root[0], problems


# --- Structure (JSON Schema) ----------------------------------------------------

_TYPE_NAMES = {"string": "text", "integer": "a whole number", "array": "a list", "object": "an object"}


def _schema_problems(document: Any, schema: dict[str, Any] = SCHEMA, at: tuple[str, ...] = ()) -> Iterator[Problem]:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        yield from _describe(error, at)


def _describe(error: SchemaError, at: tuple[str, ...]) -> Iterator[Problem]:
    where = [*at, *error.absolute_path]
    kind = error.validator
    if kind == "required":
        for name in error.validator_value:
            if isinstance(error.instance, dict) and name not in error.instance:
                yield Problem(path_text([*where, name]), "this field is required")
    elif kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        for name in sorted(set(error.instance) - known):
            yield Problem(path_text([*where, name]), "unknown field")
    elif kind == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = " or ".join(_TYPE_NAMES.get(name, name) for name in expected)
        yield Problem(path_text(where), f"must be {names}")
    elif kind == "enum":
        choices = ", ".join(repr(value) for value in error.validator_value)
        yield Problem(path_text(where), f"{error.instance!r} is not one of {choices}")
    elif kind == "minLength":
        yield Problem(path_text(where), "must not be empty")
    elif kind == "minimum":
        yield Problem(path_text(where), f"must be {error.validator_value} or more")
    elif kind == "maxLength":
        yield Problem(path_text(where), f"must be at most {error.validator_value:,} characters")
    elif kind == "pattern" and error.validator_value == SINGLE_LINE_PATTERN:
        yield Problem(path_text(where), "must be a single line (no line breaks)")
    elif kind == "maxItems":
        yield Problem(path_text(where), f"may hold at most {error.validator_value:,} items")
    elif kind == "format":
        yield Problem(path_text(where), f"{error.instance!r} is not a valid {error.validator_value} (YYYY-MM-DD)")
    else:
        yield Problem(path_text(where), error.message)


# --- Meaning: keys, links between rows, citations, the stored vocabulary --------


def _duplicates(
    items: list[dict[str, Any]],
    where: list[str | int],
    field: str,
    indexes: list[int] | None = None,
    *,
    same_by: str | None = None,
) -> Iterator[Problem]:
    """Each item whose ``field`` an earlier one has (or whose ``same_by``, when given); ``indexes`` are the items'
    places in the list, if not 0, 1, ..."""
    first_at: dict[Any, int] = {}
    for index, item in zip(indexes if indexes is not None else range(len(items)), items, strict=True):
        value = item[field]
        same = item[same_by or field]
        if same in first_at:
            yield Problem(
                path_text([*where, index, field]),
                f"duplicate {field} {value!r} (also at {path_text([*where, first_at[same]])})",
            )
        else:
            first_at[same] = index


def unique_row_problems(items: list[dict[str, Any]], where: list[str | int]) -> Iterator[Problem]:
    yield from _duplicates(items, where, "key")
    yield from _duplicates(items, where, "position")


_STORED_MEDICATION_FIELDS = ("generic_name", "brand_names", "drug_class", "rxnorm_rxcui", "atc_code")
_STORED_SYMPTOM_FIELDS = ("name", "description", "snomed_ct_code")


def _differs(where: list[str | int], field: str, stored: Any, given: Any, what: str) -> Problem:
    return Problem(
        path_text([*where, field]),
        f"differs from the stored {what} ({stored!r} here, {given!r} in the file); "
        "an import never changes it: a clinical reviewer can, in the admin (audited)",
    )


def _meaning_problems(document: dict[str, Any], kind: str) -> Iterator[Problem]:
    # A file giving the vocabulary as it stood at a past review (``vocabulary_as_of``) says nothing of what it is
    # now: stored entries are used as they are, and only a file claiming today's details must agree with them.
    historical = "vocabulary_as_of" in document
    medication = document["medication"]
    stored_medication = Medication.objects.filter(slug=medication["slug"]).first()
    if stored_medication is not None:
        for field in () if historical else _STORED_MEDICATION_FIELDS:
            if field in medication and medication[field] != getattr(stored_medication, field):
                yield _differs(
                    ["medication"], field, getattr(stored_medication, field), medication[field], "medication"
                )
    else:
        other = Medication(generic_name=medication["generic_name"]).lookalike()
        if other is not None:
            has = (
                "this name"
                if other.generic_name == medication["generic_name"]
                else f"a name that looks the same ({other.generic_name!r})"
            )
            yield Problem("medication.generic_name", f"the medication {other.slug!r} already has {has}")
        rxcui = medication.get("rxnorm_rxcui", "")
        if rxcui and Medication.objects.filter(rxnorm_rxcui=rxcui).exists():
            yield Problem("medication.rxnorm_rxcui", "another medication already has this RxCUI")

    symptoms = document["symptoms"]
    yield from _duplicates(symptoms, ["symptoms"], "slug")
    stored_symptoms = Symptom.objects.in_bulk([s["slug"] for s in symptoms], field_name="slug")
    # A new symptom's name is unique, as the database holds it: among the new ones, and against the stored ones.
    new_symptoms = [(index, s) for index, s in enumerate(symptoms) if s["slug"] not in stored_symptoms]
    # As read, not only as stored: a name that looks the same (lookalike_key) is the same name.
    keys = [lookalike_key(s["name"]) for _, s in new_symptoms]
    names = [s["name"] for _, s in new_symptoms]
    stored_names = Symptom.objects.filter(Q(name_key__in=keys) | Q(name__in=names)).values_list("slug", "name")
    named = {lookalike_key(name): (slug, name) for slug, name in stored_names}
    for key, (index, symptom) in zip(keys, new_symptoms, strict=True):
        if key in named:
            slug, name = named[key]
            has = "this name" if name == symptom["name"] else f"a name that looks the same ({name!r})"
            yield Problem(
                path_text(["symptoms", index, "name"]),
                f"the symptom {slug!r} already has {has}; list it by its slug, or give this symptom another name",
            )
    yield from _duplicates(
        [{"name": s["name"], "key": key} for key, (_, s) in zip(keys, new_symptoms, strict=True)],
        ["symptoms"],
        "name",
        [index for index, _ in new_symptoms],
        same_by="key",
    )
    for index, symptom in enumerate(symptoms):
        stored = stored_symptoms.get(symptom["slug"])
        if stored is None or historical:
            continue
        for field in _STORED_SYMPTOM_FIELDS:
            if field in symptom and symptom[field] != getattr(stored, field):
                yield _differs(["symptoms", index], field, getattr(stored, field), symptom[field], "symptom")

    article = document["article"]
    stored_article = Article.objects.select_related("medication").filter(slug=article["slug"]).first()
    if stored_article is not None and stored_article.kind != kind:
        yield Problem("article.slug", f"{article['slug']!r} is a {stored_article.get_kind_display().lower()} already")
    if stored_article is not None and stored_article.medication.slug != medication["slug"]:
        yield Problem(
            "medication.slug",
            f"the article {article['slug']!r} is about {stored_article.medication.slug!r}, not this medication",
        )
    yield from _topic_problems(document)

    yield from _revision_problems(document["revision"], {s["slug"] for s in symptoms})


def _topic_problems(document: dict[str, Any]) -> Iterator[Problem]:
    """The topic is given once: as ``revision.topic``, or (in older files) as ``article.topic``."""
    legacy, topic = document["article"].get("topic"), document["revision"].get("topic")
    if legacy is None and topic is None:
        yield Problem("revision.topic", "this field is required")
    elif legacy is not None and topic is not None and legacy != topic:
        yield Problem(
            "article.topic",
            f"differs from revision.topic ({legacy!r} here, {topic!r} there); "
            "the topic belongs to the revision: give it once, as revision.topic",
        )


def revision_part(document: dict[str, Any]) -> dict[str, Any]:
    """The ``revision`` part of a validated document, with the topic where it belongs.

    Files written before the topic moved into the revision carry it as
    ``article.topic``; they are read as if it were ``revision.topic``.
    """
    content = document["revision"]
    legacy = document["article"].get("topic")
    if "topic" not in content and legacy is not None:
        return {**content, "topic": legacy}
    return content


def _revision_problems(revision: dict[str, Any], symptom_slugs: set[str]) -> Iterator[Problem]:
    sections = revision.get("sections", [])
    section_keys = {section["key"] for section in sections}
    references = revision.get("references", [])
    reference_keys = {reference["key"] for reference in references}

    lists = ("sections", "symptom_entries", "comparison_tables", "action_steps", "callouts", "references")
    for name in lists:
        yield from unique_row_problems(revision.get(name, []), ["revision", name])

    for name in ("symptom_entries", "comparison_tables", "action_steps"):
        for index, item in enumerate(revision.get(name, [])):
            key = item.get("section")
            if key is not None and key not in section_keys:
                yield Problem(path_text(["revision", name, index, "section"]), f"no section has the key {key!r}")

    for index, entry in enumerate(revision.get("symptom_entries", [])):
        if entry["symptom"] not in symptom_slugs:
            yield Problem(
                path_text(["revision", "symptom_entries", index, "symptom"]),
                f"{entry['symptom']!r} is not a known symptom (list it under symptoms)",
            )

    for index, table in enumerate(revision.get("comparison_tables", [])):
        where: list[str | int] = ["revision", "comparison_tables", index]
        yield from unique_row_problems(table["columns"], [*where, "columns"])
        yield from unique_row_problems(table["rows"], [*where, "rows"])
        column_keys = [column["key"] for column in table["columns"]]
        for row_index, row in enumerate(table["rows"]):
            cells_at = [*where, "rows", row_index, "cells"]
            for key in row["cells"]:
                if key not in column_keys:
                    yield Problem(path_text([*cells_at, key]), "no column has this key")
            for key in column_keys:
                if key not in row["cells"]:
                    yield Problem(path_text(cells_at), f"missing the cell for column {key!r}")

    for where, text in _markdown_fields(revision):
        for key in rendering.cited_keys(text):
            if key not in reference_keys:
                yield Problem(path_text(where), f"cites [@{key}], but no reference has the key {key!r}")


def _markdown_fields(revision: dict[str, Any]) -> Iterator[tuple[list[str | int], str]]:
    for name, field in (
        ("sections", "body"),
        ("symptom_entries", "text"),
        ("action_steps", "body"),
        ("callouts", "body"),
    ):
        for index, item in enumerate(revision.get(name, [])):
            yield ["revision", name, index, field], item.get(field, "")


# --- Field rules: the models' own validation ------------------------------------


def field_problems(instance: models.Model, data: dict[str, Any], where: list[str | int]) -> Iterator[Problem]:
    given = set(data)
    exclude = [field.name for field in instance._meta.fields if field.name not in given]
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            at = where if field == NON_FIELD_ERRORS else [*where, field]
            for message in messages:
                yield Problem(path_text(at), message)


_ROW_MODELS = {
    "sections": Section,
    "symptom_entries": SymptomEntry,
    "action_steps": ActionStep,
    "callouts": SafetyCallout,
    "references": Reference,
}
_LINK_FIELDS = {"section", "symptom", "columns", "rows", "cells"}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name not in _LINK_FIELDS}


def _model_problems(document: dict[str, Any]) -> Iterator[Problem]:
    medication = document["medication"]
    if not Medication.objects.filter(slug=medication["slug"]).exists():
        yield from field_problems(Medication(**medication), medication, ["medication"])
    for index, symptom in enumerate(document["symptoms"]):
        yield from field_problems(Symptom(**symptom), symptom, ["symptoms", index])
    article = {"slug": document["article"]["slug"]}
    yield from field_problems(Article(**article), article, ["article"])
    legacy = document["article"].get("topic")
    if legacy is not None and "topic" not in document["revision"]:
        yield from field_problems(Revision(topic=legacy), {"topic": legacy}, ["article"])

    yield from _revision_model_problems(document["revision"])


def _revision_model_problems(revision: dict[str, Any]) -> Iterator[Problem]:
    head = {name: revision[name] for name in ("title", "topic", "summary", "change_summary") if name in revision}
    yield from field_problems(Revision(**head), head, ["revision"])
    for name, model in _ROW_MODELS.items():
        for index, item in enumerate(revision.get(name, [])):
            data = _plain(item)
            yield from field_problems(model(**data), data, ["revision", name, index])
    for index, table in enumerate(revision.get("comparison_tables", [])):
        where: list[str | int] = ["revision", "comparison_tables", index]
        data = _plain(table)
        yield from field_problems(ComparisonTable(**data), data, where)
        for part, model in (("columns", ComparisonColumn), ("rows", ComparisonRow)):
            for item_index, item in enumerate(table[part]):
                data = _plain(item)
                yield from field_problems(model(**data), data, [*where, part, item_index])


ARTICLE_FORMAT = DocumentFormat(FORMAT_NAME, FORMAT_VERSION, SCHEMA, "article")


def validate_document(document: Any, fmt: DocumentFormat = ARTICLE_FORMAT) -> dict[str, Any]:
    """The document with its text normalised, to be written; ``ImportRejected`` listing every problem if any."""
    if not isinstance(document, dict):
        raise ImportRejected([Problem("(document)", "must be a JSON object")])
    if document.get("format") != fmt.name:
        raise ImportRejected([Problem("format", f"must be {fmt.name!r}; is this the right kind of file?")])
    if document.get("format_version") != fmt.version:
        raise ImportRejected(
            [
                Problem(
                    "format_version",
                    f"version {document.get('format_version')!r} is not supported; this site reads version "
                    f"{fmt.version}",
                )
            ]
        )
    document, problems = normalise_document(document)
    problems.extend(_schema_problems(document, fmt.schema))
    if problems:
        raise ImportRejected(problems)
    problems = [*_meaning_problems(document, fmt.kind), *_model_problems(document)]
    if fmt.extra_problems is not None:
        problems.extend(fmt.extra_problems(document))
    if problems:
        raise ImportRejected(problems)
    return document


def validate_revision_content(content: Any) -> tuple[dict[str, Any], dict[str, Symptom]]:
    """Validate the ``revision`` part of a document on its own, against the stored symptoms.

    Returns the content with its text normalised and the symptoms it refers to;
    raises ``ImportRejected`` like an import.
    """
    content, problems = normalise_document(content, ("revision",))
    problems.extend(_schema_problems(content, SCHEMA["properties"]["revision"], ("revision",)))
    if isinstance(content, dict) and "topic" not in content:
        problems.append(Problem("revision.topic", "this field is required"))
    if problems:
        raise ImportRejected(problems)
    slugs = {entry["symptom"] for entry in content.get("symptom_entries", [])}
    symptoms = Symptom.objects.in_bulk(list(slugs), field_name="slug")
    problems = [*_revision_problems(content, set(symptoms)), *_revision_model_problems(content)]
    if problems:
        raise ImportRejected(problems)
    return content, symptoms


# --- Writing --------------------------------------------------------------------


def write_revision_content(revision: Revision, content: dict[str, Any], symptoms: dict[str, Symptom]) -> None:
    """Create the content rows of ``revision`` from validated content.

    Used by import and by copying one revision into a new draft, so both keep
    every row's key. The caller holds the transaction.
    """
    sections = Section.objects.bulk_create(Section(revision=revision, **_plain(s)) for s in content.get("sections", []))
    section_by_key = {section.key: section for section in sections}

    def placed(item: dict[str, Any]) -> Section | None:
        key = item.get("section")
        return section_by_key[key] if key is not None else None

    SymptomEntry.objects.bulk_create(
        SymptomEntry(revision=revision, symptom=symptoms[e["symptom"]], section=placed(e), **_plain(e))
        for e in content.get("symptom_entries", [])
    )
    ActionStep.objects.bulk_create(
        ActionStep(revision=revision, section=placed(a), **_plain(a)) for a in content.get("action_steps", [])
    )
    SafetyCallout.objects.bulk_create(
        SafetyCallout(revision=revision, **_plain(c)) for c in content.get("callouts", [])
    )
    Reference.objects.bulk_create(Reference(revision=revision, **_plain(r)) for r in content.get("references", []))

    table_data = content.get("comparison_tables", [])
    tables = ComparisonTable.objects.bulk_create(
        ComparisonTable(revision=revision, section=placed(t), **_plain(t)) for t in table_data
    )
    columns = ComparisonColumn.objects.bulk_create(
        ComparisonColumn(table=table, **_plain(c))
        for table, t in zip(tables, table_data, strict=True)
        for c in t["columns"]
    )
    rows = ComparisonRow.objects.bulk_create(
        ComparisonRow(table=table, **_plain(r)) for table, t in zip(tables, table_data, strict=True) for r in t["rows"]
    )
    column_by_key = {(column.table_id, column.key): column for column in columns}
    row_cells = [r["cells"] for t in table_data for r in t["rows"]]
    ComparisonCell.objects.bulk_create(
        ComparisonCell(row=row, column=column_by_key[(row.table_id, key)], text=text)
        for row, cells in zip(rows, row_cells, strict=True)
        for key, text in cells.items()
    )
    extension = extension_for(revision.article.kind)
    if extension is not None:
        extension.write(revision, content)
