"""The triage pathway interchange format, version 1 (see ``docs/pathway-format.md``).

It is the article format's envelope (medication, symptoms, ``article`` for the
pathway's identity, ``revision``) with a revision that holds questions,
dispositions, rules and vignettes instead of sections. Import checks every
reference between rows and the models' field rules, reports every problem by
path, and writes nothing unless the whole file is valid. Whether the pathway
is *safe* is a separate question, answered by the safety checks on submission.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from articles.interchange.importer import (
    DocumentFormat,
    Problem,
    field_problems,
    path_text,
    unique_row_problems,
)
from articles.interchange.schema import SCHEMA as ARTICLE_SCHEMA
from articles.interchange.schema import TOPIC, json_list_of, json_object, text_of
from articles.limits import MAX_POSITION
from articles.models import Article, ArticleKind, Revision, Symptom

from .engine import Kind, Level
from .models import PATHWAY, AnswerOption, Condition, Disposition, Question, Rule, Vignette

FORMAT_NAME = "medication-safety-triage-pathway"
FORMAT_VERSION = 1

_KEY = {"type": "string", "minLength": 1, "maxLength": 64}
_POSITION = {"type": "integer", "minimum": 1, "maximum": MAX_POSITION}
_LEVEL = {"type": "string", "enum": [level.slug for level in Level]}

PATHWAY_REVISION = json_object(
    {
        "title": text_of(Revision, "title", required=True),
        "summary": text_of(Revision, "summary", required=True),
        "questions": json_list_of(
            json_object(
                {
                    "key": _KEY,
                    "position": _POSITION,
                    "kind": {"type": "string", "enum": [kind.value for kind in Kind]},
                    "text": text_of(Question, "text", required=True),
                    "options": json_list_of(
                        json_object(
                            {
                                "key": _KEY,
                                "position": _POSITION,
                                "label": text_of(AnswerOption, "label", required=True),
                            },
                            {"is_red_flag": {"type": "boolean"}},
                        )
                    ),
                },
                {
                    "help_text": text_of(Question, "help_text"),
                    "symptom": {"type": ["string", "null"], "maxLength": Symptom._meta.get_field("slug").max_length},
                    "red_flag_level": {"type": ["string", "null"], "enum": [*_LEVEL["enum"], None]},
                    "source": text_of(Question, "source"),
                },
            )
        ),
        "dispositions": json_list_of(
            json_object(
                {
                    "key": _KEY,
                    "position": _POSITION,
                    "level": _LEVEL,
                    "title": text_of(Disposition, "title", required=True),
                    "advice": text_of(Disposition, "advice", required=True),
                    "safety_netting": text_of(Disposition, "safety_netting", required=True),
                    "is_fallback": {"type": "boolean"},
                },
                {"articles": json_list_of(text_of(Article, "slug", required=True))},
            )
        ),
        "rules": json_list_of(
            json_object(
                {
                    "key": _KEY,
                    "position": _POSITION,
                    "description": text_of(Rule, "description", required=True),
                    "match": {"type": "string", "enum": ["all", "any"]},
                    "disposition": _KEY,
                    "conditions": json_list_of(
                        json_object({"key": _KEY, "position": _POSITION, "question": _KEY, "option": _KEY})
                    ),
                }
            )
        ),
        "vignettes": json_list_of(
            json_object(
                {
                    "key": _KEY,
                    "position": _POSITION,
                    "title": text_of(Vignette, "title", required=True),
                    "answers": {"type": "object", "additionalProperties": json_list_of(_KEY)},
                    "minimum_level": _LEVEL,
                    "rationale": text_of(Vignette, "rationale", required=True),
                }
            )
        ),
    },
    {"topic": TOPIC, "change_summary": text_of(Revision, "change_summary")},
)

SCHEMA: dict[str, Any] = copy.deepcopy(ARTICLE_SCHEMA)
SCHEMA["$id"] = f"urn:{FORMAT_NAME}:v{FORMAT_VERSION}"
SCHEMA["title"] = "One triage pathway and one revision's content"
SCHEMA["properties"]["format"] = {"const": FORMAT_NAME}
SCHEMA["properties"]["format_version"] = {"const": FORMAT_VERSION}
SCHEMA["properties"]["revision"] = PATHWAY_REVISION
# Pathway exports give the vocabulary as it is now: a superseded pathway revision's as reviewed is not recovered.
del SCHEMA["properties"]["vocabulary_as_of"]


def _pathway_problems(document: dict[str, Any]) -> Iterator[Problem]:
    revision = document["revision"]
    at = ["revision"]
    for name in ("questions", "dispositions", "rules", "vignettes"):
        yield from unique_row_problems(revision[name], [*at, name])

    symptom_slugs = {s["slug"] for s in document["symptoms"]}
    stored_symptoms = set(
        Symptom.objects.filter(slug__in=[q.get("symptom") for q in revision["questions"]]).values_list(
            "slug", flat=True
        )
    )
    options: dict[str, set[str]] = {}
    for index, question in enumerate(revision["questions"]):
        where = [*at, "questions", index]
        yield from unique_row_problems(question["options"], [*where, "options"])
        keys = [option["key"] for option in question["options"]]
        options[question["key"]] = set(keys)
        if question["kind"] == Kind.YES_NO and sorted(keys) != ["no", "yes"]:
            yield Problem(path_text([*where, "options"]), "a yes/no question has exactly the options 'yes' and 'no'")
        symptom = question.get("symptom")
        if symptom and symptom not in symptom_slugs | stored_symptoms:
            yield Problem(
                path_text([*where, "symptom"]), f"{symptom!r} is not a known symptom (list it under symptoms)"
            )
        if question.get("red_flag_level") and not question.get("source", "").strip():
            yield Problem(path_text([*where, "source"]), "a red flag must cite its source")
        data = {k: question[k] for k in ("key", "position", "kind", "text", "help_text", "source") if k in question}
        yield from field_problems(Question(**data), data, where)
        for option_index, option in enumerate(question["options"]):
            yield from field_problems(AnswerOption(**option), option, [*where, "options", option_index])

    disposition_keys = {d["key"] for d in revision["dispositions"]}
    linked = {slug for d in revision["dispositions"] for slug in d.get("articles", [])}
    known_articles = set(
        Article.objects.filter(slug__in=linked, kind=ArticleKind.ARTICLE).values_list("slug", flat=True)
    )
    # What the database holds once per revision and once per disposition (``Disposition``'s constraints and its
    # articles' table) is checked here, named by its path: written as it is, it would end the import in an error.
    fallback_at: int | None = None
    for index, disposition in enumerate(revision["dispositions"]):
        where = [*at, "dispositions", index]
        if disposition["is_fallback"]:
            if fallback_at is None:
                fallback_at = index
            else:
                yield Problem(
                    path_text([*where, "is_fallback"]),
                    f"{path_text([*at, 'dispositions', fallback_at])} is the fallback already; "
                    "a pathway has exactly one",
                )
        listed_at: dict[str, int] = {}
        for article_index, slug in enumerate(disposition.get("articles", [])):
            if slug in listed_at:
                yield Problem(
                    path_text([*where, "articles", article_index]),
                    f"{slug!r} is listed twice (also at {path_text([*where, 'articles', listed_at[slug]])})",
                )
                continue
            listed_at[slug] = article_index
            if slug not in known_articles:
                yield Problem(path_text([*where, "articles", article_index]), f"no article has the slug {slug!r}")
        data = {k: disposition[k] for k in ("key", "position", "title", "advice", "safety_netting", "is_fallback")}
        yield from field_problems(Disposition(**data), data, where)

    for index, rule in enumerate(revision["rules"]):
        where = [*at, "rules", index]
        if rule["disposition"] not in disposition_keys:
            yield Problem(path_text([*where, "disposition"]), f"no disposition has the key {rule['disposition']!r}")
        yield from unique_row_problems(rule["conditions"], [*where, "conditions"])
        for condition_index, condition in enumerate(rule["conditions"]):
            at_condition = [*where, "conditions", condition_index]
            if condition["question"] not in options:
                yield Problem(
                    path_text([*at_condition, "question"]), f"no question has the key {condition['question']!r}"
                )
            elif condition["option"] not in options[condition["question"]]:
                yield Problem(
                    path_text([*at_condition, "option"]),
                    f"question {condition['question']!r} has no answer {condition['option']!r}",
                )
            yield from field_problems(
                Condition(key=condition["key"], position=condition["position"]), {"key": 1, "position": 1}, at_condition
            )
        data = {k: rule[k] for k in ("key", "position", "description")}
        yield from field_problems(Rule(**data), data, where)

    for index, vignette in enumerate(revision["vignettes"]):
        where = [*at, "vignettes", index]
        for question, chosen in vignette["answers"].items():
            if question not in options:
                yield Problem(path_text([*where, "answers", question]), "no question has this key")
            elif any(option not in options[question] for option in chosen):
                yield Problem(path_text([*where, "answers", question]), "names an answer the question does not have")
        data = {k: vignette[k] for k in ("key", "position", "title", "rationale")}
        yield from field_problems(Vignette(**data), data, where)


PATHWAY_FORMAT = DocumentFormat(FORMAT_NAME, FORMAT_VERSION, SCHEMA, PATHWAY, extra_problems=_pathway_problems)


ARTICLE_ONLY_LISTS = ("sections", "symptom_entries", "comparison_tables", "action_steps", "callouts", "references")


def pathway_document(revision: Any) -> dict[str, Any]:
    """A pathway revision as a pathway interchange document (the article lists, always empty, left out)."""
    from articles.interchange.export import revision_document

    document = revision_document(revision)
    document["format"], document["format_version"] = FORMAT_NAME, FORMAT_VERSION
    document["symptoms"] = [
        {"slug": s.slug, "name": s.name, "description": s.description, "snomed_ct_code": s.snomed_ct_code}
        for s in sorted({q.symptom for q in revision.triage_questions.all() if q.symptom_id}, key=lambda s: s.slug)
    ]
    for name in ARTICLE_ONLY_LISTS:
        document["revision"].pop(name, None)
    return document
