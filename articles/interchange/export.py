"""Writing a revision as an interchange document, and its canonical content hash.

The same dictionary serves three purposes: the export file, the canonical
form hashed when a revision is submitted, and (later) the diff between two
revisions. Keys and list order are fixed, so the output is byte-stable.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from articles.kinds import extension_for
from articles.models import Revision

from . import FORMAT_NAME, FORMAT_VERSION


def revision_content(revision: Revision) -> dict[str, Any]:
    """The revision's content as plain data, rows in position order.

    Expects ``revision`` from ``Revision.objects.with_content()`` so that
    building it costs no further queries.
    """
    sections = list(revision.sections.all())
    section_keys = {section.pk: section.key for section in sections}

    def section_of(item: Any) -> str | None:
        return section_keys.get(item.section_id)

    tables = []
    for table in revision.comparison_tables.all():
        columns = list(table.columns.all())
        column_keys = {column.pk: column.key for column in columns}
        rows = []
        for row in table.rows.all():
            texts = {column_keys[cell.column_id]: cell.text for cell in row.cells.all()}
            rows.append(
                {
                    "key": row.key,
                    "position": row.position,
                    "feature": row.feature,
                    "cells": {column.key: texts.get(column.key, "") for column in columns},
                }
            )
        tables.append(
            {
                "key": table.key,
                "position": table.position,
                "caption": table.caption,
                "feature_heading": table.feature_heading,
                "section": section_of(table),
                "columns": [{"key": c.key, "position": c.position, "heading": c.heading} for c in columns],
                "rows": rows,
            }
        )

    content = {
        "title": revision.title,
        "topic": revision.topic,
        "summary": revision.summary,
        "change_summary": revision.change_summary,
        "sections": [{"key": s.key, "position": s.position, "heading": s.heading, "body": s.body} for s in sections],
        "symptom_entries": [
            {
                "key": e.key,
                "position": e.position,
                "symptom": e.symptom.slug,
                "section": section_of(e),
                "text": e.text,
                "frequency_band": e.frequency_band,
                "frequency_source": e.frequency_source,
            }
            for e in revision.symptom_entries.all()
        ],
        "comparison_tables": tables,
        "action_steps": [
            {
                "key": a.key,
                "position": a.position,
                "title": a.title,
                "body": a.body,
                "section": section_of(a),
            }
            for a in revision.action_steps.all()
        ],
        "callouts": [
            {"key": c.key, "position": c.position, "kind": c.kind, "title": c.title, "body": c.body}
            for c in revision.callouts.all()
        ],
        "references": [
            {
                "key": r.key,
                "position": r.position,
                "publication_type": r.publication_type,
                "authors": r.authors,
                "title": r.title,
                "container_title": r.container_title,
                "publisher": r.publisher,
                "year": r.year,
                "volume": r.volume,
                "issue": r.issue,
                "pages": r.pages,
                "doi": r.doi,
                "pmid": r.pmid,
                "url": r.url,
                "accessed_on": r.accessed_on.isoformat() if r.accessed_on else None,
                "evidence_level": r.evidence_level,
                "needs_verification": r.needs_verification,
                "verification_note": r.verification_note,
            }
            for r in revision.references.all()
        ],
    }
    extension = extension_for(revision.article.kind)
    if extension is not None:
        content.update(extension.content(revision))
    return content


def revision_document(revision: Revision, *, vocabulary_as_of: datetime.datetime | None = None) -> dict[str, Any]:
    """The whole interchange document for one revision, with its vocabulary.

    The vocabulary is as the revision holds it: today's, unless ``vocabulary_history.show_vocabulary_as_reviewed``
    gave it the details as at its last review, whose moment is then ``vocabulary_as_of`` (written into the file).
    """
    article = revision.article
    medication = article.medication
    content = revision_content(revision)
    symptoms = {entry.symptom.slug: entry.symptom for entry in revision.symptom_entries.all()}
    as_of = {"vocabulary_as_of": vocabulary_as_of.isoformat()} if vocabulary_as_of else {}
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "medication": {
            "slug": medication.slug,
            "generic_name": medication.generic_name,
            "brand_names": list(medication.brand_names),
            "drug_class": medication.drug_class,
            "rxnorm_rxcui": medication.rxnorm_rxcui,
            "atc_code": medication.atc_code,
        },
        "symptoms": [
            {
                "slug": symptom.slug,
                "name": symptom.name,
                "description": symptom.description,
                "snomed_ct_code": symptom.snomed_ct_code,
            }
            for slug, symptom in sorted(symptoms.items())
        ],
        **as_of,
        "article": {"slug": article.slug},
        "revision": content,
    }


def dumps_document(document: dict[str, Any]) -> str:
    """Serialise a document the one way exports are written (stable bytes)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def content_hash(revision: Revision) -> str:
    """SHA-256 over the canonical form of the article's identity and the revision's content.

    The identity is the article's slug and the slug of the medication it is about
    (both fixed once the article exists); the content includes the topic.
    """
    canonical = json.dumps(
        {
            "article": revision.article.slug,
            "medication": revision.article.medication.slug,
            "revision": revision_content(revision),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
