"""JSON Schema (draft 2020-12) of the article interchange format, version 1.

Built from the models' choices so the two cannot drift apart;
``docs/article-format-v1.schema.json`` is this schema, written out (a test
keeps the file current).
"""

from typing import Any

from articles.models import CalloutKind, EvidenceLevel, FrequencyBand, PublicationType

from . import FORMAT_NAME, FORMAT_VERSION

_KEY = {"type": "string", "minLength": 1, "maxLength": 64}
_POSITION = {"type": "integer", "minimum": 1}
_TEXT = {"type": "string"}
_NONEMPTY = {"type": "string", "minLength": 1}
_SECTION_REF = {"type": ["string", "null"], "description": "Key of the section this item appears in, or null."}
# The topic is reviewed content: it belongs to the revision. Files written before it moved
# there carry it as article.topic, which is still read (and must agree if both are given).
TOPIC = {
    "type": "string",
    "minLength": 1,
    "description": "The condition or effect the article is about. Required here unless the file gives article.topic.",
}
LEGACY_ARTICLE_TOPIC = {
    "type": "string",
    "minLength": 1,
    "deprecated": True,
    "description": "Where older files gave the topic; read as revision.topic. Write revision.topic instead.",
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


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"urn:{FORMAT_NAME}:v{FORMAT_VERSION}",
    "title": "One article and one revision's content",
    **json_object(
        {
            "format": {"const": FORMAT_NAME},
            "format_version": {"const": FORMAT_VERSION},
            "medication": json_object(
                {"slug": _NONEMPTY, "generic_name": _NONEMPTY},
                {
                    "brand_names": json_list_of(_NONEMPTY),
                    "drug_class": _TEXT,
                    "rxnorm_rxcui": _TEXT,
                    "atc_code": _TEXT,
                },
            ),
            "symptoms": json_list_of(
                json_object({"slug": _NONEMPTY, "name": _NONEMPTY, "description": _NONEMPTY}, {"snomed_ct_code": _TEXT})
            ),
            "article": json_object({"slug": _NONEMPTY}, {"topic": LEGACY_ARTICLE_TOPIC}),
            "revision": json_object(
                {
                    "title": _NONEMPTY,
                    "summary": _NONEMPTY,
                    "sections": json_list_of(
                        json_object({"key": _KEY, "position": _POSITION, "heading": _NONEMPTY, "body": _TEXT})
                    ),
                },
                {
                    "topic": TOPIC,
                    "change_summary": _TEXT,
                    "symptom_entries": json_list_of(
                        json_object(
                            {"key": _KEY, "position": _POSITION, "symptom": _NONEMPTY, "text": _NONEMPTY},
                            {
                                "section": _SECTION_REF,
                                "frequency_band": _choices(FrequencyBand, blank=True),
                                "frequency_source": _TEXT,
                            },
                        )
                    ),
                    "comparison_tables": json_list_of(
                        json_object(
                            {
                                "key": _KEY,
                                "position": _POSITION,
                                "caption": _NONEMPTY,
                                "columns": json_list_of(
                                    json_object({"key": _KEY, "position": _POSITION, "heading": _NONEMPTY})
                                ),
                                "rows": json_list_of(
                                    json_object(
                                        {
                                            "key": _KEY,
                                            "position": _POSITION,
                                            "feature": _NONEMPTY,
                                            "cells": {
                                                "type": "object",
                                                "additionalProperties": _TEXT,
                                                "description": "Cell text by column key; one entry per column.",
                                            },
                                        }
                                    )
                                ),
                            },
                            {"feature_heading": _NONEMPTY, "section": _SECTION_REF},
                        )
                    ),
                    "action_steps": json_list_of(
                        json_object(
                            {"key": _KEY, "position": _POSITION, "title": _NONEMPTY},
                            {"body": _TEXT, "section": _SECTION_REF},
                        )
                    ),
                    "callouts": json_list_of(
                        json_object(
                            {"key": _KEY, "position": _POSITION, "title": _NONEMPTY, "body": _NONEMPTY},
                            {"kind": _choices(CalloutKind)},
                        )
                    ),
                    "references": json_list_of(
                        json_object(
                            {"key": _KEY, "position": _POSITION, "publication_type": _choices(PublicationType)},
                            {
                                "authors": _TEXT,
                                "title": _TEXT,
                                "container_title": _TEXT,
                                "publisher": _TEXT,
                                "year": {"type": ["integer", "null"]},
                                "volume": _TEXT,
                                "issue": _TEXT,
                                "pages": _TEXT,
                                "doi": _TEXT,
                                "pmid": _TEXT,
                                "url": _TEXT,
                                "accessed_on": {"type": ["string", "null"], "format": "date"},
                                "evidence_level": _choices(EvidenceLevel),
                                "needs_verification": {"type": "boolean"},
                                "verification_note": _TEXT,
                            },
                        )
                    ),
                },
            ),
        },
    ),
}
