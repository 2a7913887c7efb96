"""JSON Schema (draft 2020-12) of the article interchange format, version 1.

Built from the models' choices and maximum lengths (``articles.limits``) so the
two cannot drift apart; ``docs/article-format-v1.schema.json`` is this schema,
written out (a test keeps the file current). Text is checked after the importer
has normalised it (``articles.text``), so lengths count the stored characters.
"""

from typing import Any

from django.db import models

from articles.limits import MAX_BRAND_NAMES, MAX_POSITION, MAX_TITLE_CHARS, MAX_YEAR, MIN_YEAR
from articles.models import (
    ActionStep,
    Article,
    CalloutKind,
    ComparisonCell,
    ComparisonColumn,
    ComparisonRow,
    ComparisonTable,
    EvidenceLevel,
    FrequencyBand,
    Medication,
    PublicationType,
    Reference,
    Revision,
    SafetyCallout,
    Section,
    Symptom,
    SymptomEntry,
)

from . import FORMAT_NAME, FORMAT_VERSION

# One line: no line break (the importer has already turned CRLF into LF and stripped the ends).
SINGLE_LINE_PATTERN = "^[^\\n]*$"

_KEY = {"type": "string", "minLength": 1, "maxLength": 64}
_POSITION = {"type": "integer", "minimum": 1, "maximum": MAX_POSITION}
_SECTION_REF = {
    "type": ["string", "null"],
    "maxLength": 64,
    "description": "Key of the section this item appears in, or null.",
}


def text_of(model: type[models.Model], name: str, *, required: bool = False) -> dict[str, Any]:
    """The schema of a model's text field: its maximum length, and one line for a ``CharField``."""
    field = model._meta.get_field(name)
    schema: dict[str, Any] = {"type": "string"}
    if required:
        schema["minLength"] = 1
    schema["maxLength"] = field.max_length
    if isinstance(field, models.CharField):
        schema["pattern"] = SINGLE_LINE_PATTERN
    return schema


# The topic is reviewed content: it belongs to the revision. Files written before it moved
# there carry it as article.topic, which is still read (and must agree if both are given).
TOPIC = {
    **text_of(Revision, "topic", required=True),
    "description": "The condition or effect the article is about. Required here unless the file gives article.topic.",
}
LEGACY_ARTICLE_TOPIC = {
    **text_of(Revision, "topic", required=True),
    "deprecated": True,
    "description": "Where older files gave the topic; read as revision.topic. Write revision.topic instead.",
}


# The medication and symptoms are the shared vocabulary, which a reviewer may change after a revision is reviewed.
VOCABULARY_AS_OF = {
    "type": "string",
    "format": "date-time",
    "maxLength": 64,  # an ISO 8601 time with microseconds and an offset is 32 characters
    "description": (
        "Given when the medication and symptoms are as they stood at this moment, the revision's last clinical "
        "review (an export of a revision no longer live), not as they are now. Missing: as they are now. On import, "
        "entries already stored are then used as they are, whatever the file says of them."
    ),
}


# A heading alone introduces what is placed in the section (symptoms, tables, actions).
SECTION_BODY = {
    **text_of(Section, "body"),
    "description": (
        "CommonMark: paragraphs and lists in any order. Empty or missing: the heading introduces only "
        "the rows placed in this section."
    ),
}


def json_object(required: dict[str, Any], optional: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    properties = {**required, **(optional or {})}
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def json_list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def _choices(choices: type, blank: bool = False) -> dict[str, Any]:
    values = list(choices.values)
    return {"type": "string", "enum": ["", *values] if blank else values}


def _fields(model: type[models.Model], *names: str, required: bool = False) -> dict[str, Any]:
    return {name: text_of(model, name, required=required) for name in names}


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"urn:{FORMAT_NAME}:v{FORMAT_VERSION}",
    "title": "One article and one revision's content",
    **json_object(
        {
            "format": {"const": FORMAT_NAME},
            "format_version": {"const": FORMAT_VERSION},
            "medication": json_object(
                _fields(Medication, "slug", "generic_name", required=True),
                {
                    "brand_names": {
                        **json_list_of({"type": "string", "minLength": 1, "maxLength": MAX_TITLE_CHARS}),
                        "maxItems": MAX_BRAND_NAMES,
                    },
                    **_fields(Medication, "drug_class", "rxnorm_rxcui", "atc_code"),
                },
            ),
            "symptoms": json_list_of(
                json_object(
                    _fields(Symptom, "slug", "name", "description", required=True), _fields(Symptom, "snomed_ct_code")
                )
            ),
            "article": json_object(_fields(Article, "slug", required=True), {"topic": LEGACY_ARTICLE_TOPIC}),
            "revision": json_object(
                {
                    **_fields(Revision, "title", "summary", required=True),
                    "sections": json_list_of(
                        json_object(
                            {"key": _KEY, "position": _POSITION, **_fields(Section, "heading", required=True)},
                            {"body": SECTION_BODY},
                        )
                    ),
                },
                {
                    "topic": TOPIC,
                    **_fields(Revision, "change_summary"),
                    "symptom_entries": json_list_of(
                        json_object(
                            {
                                "key": _KEY,
                                "position": _POSITION,
                                "symptom": text_of(Symptom, "slug", required=True),
                                **_fields(SymptomEntry, "text", required=True),
                            },
                            {
                                "section": _SECTION_REF,
                                "frequency_band": _choices(FrequencyBand, blank=True),
                                **_fields(SymptomEntry, "frequency_source"),
                            },
                        )
                    ),
                    "comparison_tables": json_list_of(
                        json_object(
                            {
                                "key": _KEY,
                                "position": _POSITION,
                                **_fields(ComparisonTable, "caption", required=True),
                                "columns": json_list_of(
                                    json_object(
                                        {
                                            "key": _KEY,
                                            "position": _POSITION,
                                            **_fields(ComparisonColumn, "heading", required=True),
                                        }
                                    )
                                ),
                                "rows": json_list_of(
                                    json_object(
                                        {
                                            "key": _KEY,
                                            "position": _POSITION,
                                            **_fields(ComparisonRow, "feature", required=True),
                                            "cells": {
                                                "type": "object",
                                                "additionalProperties": text_of(ComparisonCell, "text"),
                                                "description": "Cell text by column key; one entry per column.",
                                            },
                                        }
                                    )
                                ),
                            },
                            {**_fields(ComparisonTable, "feature_heading", required=True), "section": _SECTION_REF},
                        )
                    ),
                    "action_steps": json_list_of(
                        json_object(
                            {"key": _KEY, "position": _POSITION, **_fields(ActionStep, "title", required=True)},
                            {**_fields(ActionStep, "body"), "section": _SECTION_REF},
                        )
                    ),
                    "callouts": json_list_of(
                        json_object(
                            {
                                "key": _KEY,
                                "position": _POSITION,
                                **_fields(SafetyCallout, "title", "body", required=True),
                            },
                            {"kind": _choices(CalloutKind)},
                        )
                    ),
                    "references": json_list_of(
                        json_object(
                            {"key": _KEY, "position": _POSITION, "publication_type": _choices(PublicationType)},
                            {
                                **_fields(Reference, "authors", "title", "container_title", "publisher"),
                                "year": {"type": ["integer", "null"], "minimum": MIN_YEAR, "maximum": MAX_YEAR},
                                **_fields(Reference, "volume", "issue", "pages", "doi", "pmid", "url"),
                                "accessed_on": {"type": ["string", "null"], "format": "date"},
                                "evidence_level": _choices(EvidenceLevel),
                                "needs_verification": {"type": "boolean"},
                                **_fields(Reference, "verification_note"),
                            },
                        )
                    ),
                },
            ),
        },
        {"vocabulary_as_of": VOCABULARY_AS_OF},
    ),
}
