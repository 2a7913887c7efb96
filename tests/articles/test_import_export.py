"""The article interchange format: round trips, and every kind of bad file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.interchange.export import dumps_document, revision_document
from articles.interchange.importer import ImportRejected, load_document
from articles.interchange.schema import SCHEMA
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
from articles.services import article_import, revision_archive
from articles.text import normalise_text
from tests.factories import DEMO_FILE, article_document, as_bytes, changed, demo_document

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

ALL_MODELS = [
    Medication,
    Symptom,
    Article,
    Revision,
    Section,
    SymptomEntry,
    ComparisonTable,
    ComparisonColumn,
    ComparisonRow,
    ComparisonCell,
    ActionStep,
    SafetyCallout,
    Reference,
]


def database_snapshot() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def export(revision: Revision) -> str:
    return dumps_document(revision_document(Revision.objects.with_content().get(pk=revision.pk)))


# --- Round trips -------------------------------------------------------------------


def test_the_demo_file_is_an_export_of_itself():
    revision = article_import(document=demo_document(), actor=None)
    assert export(revision) == DEMO_FILE.read_text(encoding="utf-8")


def test_export_import_into_an_empty_database_export_is_byte_identical(tmp_path):
    call_command("import_article", str(DEMO_FILE), stdout=io.StringIO())
    first = tmp_path / "first.json"
    call_command("export_article", "amlodipine-peripheral-neuropathy", output=first, stderr=io.StringIO())

    # A brand-new database in another process: migrate, import the export, export again.
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "contentsite.settings.test",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    second = tmp_path / "second.json"
    for command in (
        ["migrate", "-v0"],
        ["import_article", str(first)],
        ["export_article", "amlodipine-peripheral-neuropathy", "-o", str(second)],
    ):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)

    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() == DEMO_FILE.read_bytes()


# Texts in their stored form (see articles.text): the round trip keeps them exactly.
# test_text_normalisation.py covers every other text: refused by name, or stored normalised.
texts = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf", "Cn", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    )
    .map(normalise_text)
    .filter(bool)
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sections=st.integers(0, 6),
    references=st.integers(0, 5),
    rows=st.integers(0, 4),
    columns=st.integers(0, 4),
    title=texts.filter(lambda s: s.strip() and len(s) <= 200),
    cell=texts,
)
def test_any_valid_document_round_trips(sections, references, rows, columns, title, cell):
    document = article_document(
        sections=max(sections, 1 if references else 0), references=references, rows=rows, columns=columns
    )
    document["revision"]["title"] = title
    for row in document["revision"]["comparison_tables"][0]["rows"]:
        row["cells"] = dict.fromkeys(row["cells"], cell)
    with transaction.atomic():
        text = dumps_document(document)
        revision = article_import(document=load_document(text.encode()), actor=None)
        assert json.loads(export(revision)) == document
        transaction.set_rollback(True)


def test_the_published_schema_file_matches_the_code(settings):
    path = settings.BASE_DIR / "docs" / "article-format-v1.schema.json"
    assert json.loads(path.read_text(encoding="utf-8")) == SCHEMA, "regenerate with: manage.py article_schema"


# --- Bad files: a clear message naming the problem, and nothing written -------------


def rejected(raw: bytes) -> list[str]:
    before = database_snapshot()
    with pytest.raises(ImportRejected) as caught:
        article_import(document=load_document(raw), actor=None)
    assert database_snapshot() == before, "a rejected import must not write anything"
    return [str(problem) for problem in caught.value.problems]


def test_malformed_json():
    problems = rejected(b'{"format": "medication-safety-article",')
    assert problems == [
        "(file): not valid JSON: Expecting property name enclosed in double quotes at line 1, column 40"
    ]


def test_not_utf8():
    assert rejected(b"\xff\xfe{}") == ["(file): not UTF-8 text (byte 0)"]


def test_missing_title():
    document = demo_document()
    del document["revision"]["title"]
    assert rejected(as_bytes(document)) == ["revision.title: this field is required"]


def test_empty_title():
    assert rejected(as_bytes(changed(demo_document(), **{"revision.title": ""}))) == [
        "revision.title: must not be empty"
    ]


def test_citation_marker_without_reference():
    document = changed(demo_document(), **{"revision.sections.0.body": "Text citing [@nobody-wrote-this]."})
    assert rejected(as_bytes(document)) == [
        "revision.sections[0].body: cites [@nobody-wrote-this], but no reference has the key 'nobody-wrote-this'"
    ]


def test_duplicate_keys():
    document = changed(demo_document(), **{"revision.sections.3.key": "understanding-amlodipine"})
    assert rejected(as_bytes(document)) == [
        "revision.sections[3].key: duplicate key 'understanding-amlodipine' (also at revision.sections[0])"
    ]


def test_duplicate_positions():
    document = changed(demo_document(), **{"revision.action_steps.2.position": 1})
    assert rejected(as_bytes(document)) == [
        "revision.action_steps[2].position: duplicate position 1 (also at revision.action_steps[0])"
    ]


def test_duplicate_table_row_keys_and_unknown_cell_column():
    document = demo_document()
    table = document["revision"]["comparison_tables"][0]
    table["rows"][1]["key"] = table["rows"][0]["key"]
    table["rows"][2]["cells"]["no-such-column"] = "x"
    assert rejected(as_bytes(document)) == [
        "revision.comparison_tables[0].rows[1].key: duplicate key 'prevalence' "
        "(also at revision.comparison_tables[0].rows[0])",
        "revision.comparison_tables[0].rows[2].cells.no-such-column: no column has this key",
    ]


def test_duplicate_member_in_one_json_object():
    raw = DEMO_FILE.read_bytes().replace(b'"title": "Amlodipine and', b'"title": "x", "title": "Amlodipine and', 1)
    assert rejected(raw) == ["(file): not valid: the field 'title' appears twice in one object"]


def test_unknown_field():
    document = changed(demo_document(), **{"revision.references.0.impact_factor": 9.9})
    assert rejected(as_bytes(document)) == ["revision.references[0].impact_factor: unknown field"]


def test_wrong_format_version():
    document = changed(demo_document(), format_version=2)
    assert rejected(as_bytes(document)) == ["format_version: version 2 is not supported; this site reads version 1"]


def test_not_an_article_file():
    assert rejected(b"[1, 2, 3]") == ["(document): must be a JSON object"]
    assert rejected(b'{"format": "something-else"}') == [
        "format: must be 'medication-safety-article'; is this the right kind of file?"
    ]


def test_oversized_file(settings):
    settings.ARTICLE_IMPORT_MAX_BYTES = 1000
    assert rejected(DEMO_FILE.read_bytes()) == [
        f"(file): the file is {DEMO_FILE.stat().st_size:,} bytes; the limit is 1,000 bytes"
    ]


def test_field_rules_of_the_models_apply():
    document = demo_document()
    document["revision"]["references"][0].update(needs_verification=False, doi="doi.org/10.1/x")
    document["medication"]["atc_code"] = "C08"
    document["revision"]["sections"][1]["key"] = "Not A Key"
    problems = rejected(as_bytes(document))
    assert "medication.atc_code: An ATC code for a medication has 7 characters, e.g. C08CA01." in problems
    assert (
        "revision.sections[1].key: Use lower-case letters, digits and single hyphens, e.g. 'reported-symptoms'."
        in problems
    )
    assert "revision.references[0].doi: A DOI looks like 10.1234/abcd (no https://doi.org/)." in problems


def test_unverified_reference_without_identifier_is_refused():
    document = demo_document()
    document["revision"]["references"][0]["needs_verification"] = False
    assert rejected(as_bytes(document)) == [
        "revision.references[0].needs_verification: "
        "A reference with no DOI, PMID or URL must be marked as needing verification."
    ]


def test_wrong_types_and_choices():
    document = demo_document()
    document["revision"]["sections"][0]["position"] = "first"
    document["revision"]["callouts"][0]["kind"] = "scary"
    problems = rejected(as_bytes(document))
    assert "revision.sections[0].position: must be a whole number" in problems
    assert "revision.callouts[0].kind: 'scary' is not one of 'warning', 'important', 'information'" in problems


def test_dangling_links_between_rows():
    document = demo_document()
    document["revision"]["symptom_entries"][0]["section"] = "nowhere"
    document["revision"]["symptom_entries"][1]["symptom"] = "unlisted"
    del document["revision"]["comparison_tables"][0]["rows"][0]["cells"]["amlodipine-related"]
    assert rejected(as_bytes(document)) == [
        "revision.symptom_entries[0].section: no section has the key 'nowhere'",
        "revision.symptom_entries[1].symptom: 'unlisted' is not a known symptom (list it under symptoms)",
        "revision.comparison_tables[0].rows[0].cells: missing the cell for column 'amlodipine-related'",
    ]


def test_stored_vocabulary_is_not_silently_changed():
    article_import(document=demo_document(), actor=None)
    document = changed(demo_document(), **{"medication.atc_code": "C08CA02", "symptoms.0.name": "Burning pain"})
    assert rejected(as_bytes(document)) == [
        "medication.atc_code: differs from the stored medication ('C08CA01' here, 'C08CA02' in the file); "
        "an import never changes it: a clinical reviewer can, in the admin (audited)",
        "symptoms[0].name: differs from the stored symptom ('Burning or aching pain' here, 'Burning pain' in the "
        "file); an import never changes it: a clinical reviewer can, in the admin (audited)",
    ]


def test_a_new_symptom_named_as_another_is_refused_by_path():
    # Found by helper h3: a file adding a symptom under a name that a stored symptom, or another new symptom in the
    # file, already has passed validation and then failed the unique name as it was written: import_article said only
    # "Symptom with this Name already exists." (not where), and a second such symptom was not reported at all.
    article_import(document=demo_document(), actor=None)
    stored = Symptom.objects.get(slug=demo_document()["symptoms"][0]["slug"])
    document = article_document(slug="another-article", medication="othermol", symptoms=3)
    document["symptoms"][0]["name"] = stored.name
    document["symptoms"][2]["name"] = document["symptoms"][1]["name"]
    assert rejected(as_bytes(document)) == [
        f"symptoms[0].name: the symptom {stored.slug!r} already has this name; "
        f"list it by its slug, or give this symptom another name",
        "symptoms[2].name: duplicate name 'othermol symptom 2' (also at symptoms[1])",
    ]


def test_importing_an_existing_article_adds_a_new_draft(author):
    first = article_import(document=demo_document(), actor=None)
    # One open draft per article: the import is refused while the first is open (test_services_workflow).
    revision_archive(revision=first, actor=author)
    second = article_import(document=demo_document(), actor=None)
    assert (first.article_id, first.number, second.number, second.state) == (second.article_id, 1, 2, "draft")


def test_command_reports_every_problem_and_fails(tmp_path):
    document = demo_document()
    del document["revision"]["summary"]
    document["revision"]["sections"][0]["colour"] = "red"
    path = tmp_path / "bad.json"
    path.write_bytes(as_bytes(document))
    stderr = io.StringIO()
    with pytest.raises(CommandError, match="not imported, 2 problems; nothing was changed"):
        call_command("import_article", str(path), stderr=stderr)
    assert "revision.summary: this field is required" in stderr.getvalue()
    assert "revision.sections[0].colour: unknown field" in stderr.getvalue()
    assert not Article.objects.exists()


def test_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_article", str(tmp_path / "missing.json"))


def test_export_of_unknown_article_fails():
    with pytest.raises(CommandError, match="No article with the slug 'nope'"):
        call_command("export_article", "nope")


# --- Nesting (issue 8, finding 6: a file nested 1,000 levels deep ended in a RecursionError) ---


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def test_a_file_nested_a_thousand_levels_deep_is_refused_naming_the_problem():
    assert rejected(deep(1000)) == [
        "(file): the JSON is nested more than 32 levels deep (at line 1, column 33); the limit is 32 levels"
    ]


def test_deep_nesting_inside_an_otherwise_valid_file_is_refused():
    raw = as_bytes(changed(demo_document(), **{"medication.brand_names": "DEEP"})).replace(b'"DEEP"', deep(1000))
    assert rejected(raw) == [
        "(file): the JSON is nested more than 32 levels deep (at line 7, column 50); the limit is 32 levels"
    ]


def test_nesting_up_to_the_limit_is_read_and_brackets_in_text_are_not_nesting():
    assert rejected(deep(32)) == ["(document): must be a JSON object"]
    document = changed(demo_document(), **{"revision.sections.0.body": "[" * 1000 + "{" * 1000})
    assert load_document(as_bytes(document)) == document


@pytest.mark.parametrize("command", ["import_article", "import_pathway"])
def test_the_import_commands_name_the_nesting_problem(tmp_path, command):
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"format": ' + deep(100_000) + b"}")
    stderr = io.StringIO()
    with pytest.raises(CommandError, match="not imported, 1 problem; nothing was changed"):
        call_command(command, str(path), stderr=stderr)
    assert "(file): the JSON is nested more than 32 levels deep (at line 1, column 43)" in stderr.getvalue()
    assert not Article.objects.exists()
