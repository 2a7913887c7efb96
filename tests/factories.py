"""Valid interchange documents of any size, for tests that need content."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from articles.interchange.importer import load_document

DEMO_FILE = Path(__file__).resolve().parent.parent / "articles" / "demo" / "amlodipine-peripheral-neuropathy.json"


def demo_document() -> dict[str, Any]:
    return load_document(DEMO_FILE.read_bytes())


def article_document(
    *,
    slug: str = "test-medicine-side-effect",
    medication: str = "testamol",
    sections: int = 3,
    references: int = 1,
    symptoms: int = 2,
    rows: int = 3,
    columns: int = 2,
    actions: int = 2,
    marker: str = "",
    topic: str = "Test topic",
) -> dict[str, Any]:
    """A made-up but structurally complete article; every reference is cited once."""
    reference_keys = [f"ref-{n}" for n in range(1, references + 1)]
    section_list = []
    for n in range(1, sections + 1):
        cited = " ".join(f"[@{key}]" for key in reference_keys[n - 1 :: sections])
        section_list.append(
            {"key": f"section-{n}", "position": n, "heading": f"Heading {n}", "body": f"Body {n} {marker} {cited}."}
        )
    return {
        "format": "medication-safety-article",
        "format_version": 1,
        "medication": {
            "slug": medication,
            "generic_name": medication.capitalize(),
            "brand_names": [],
            "drug_class": "Test class",
            "rxnorm_rxcui": "",
            "atc_code": "",
        },
        "symptoms": [
            {
                "slug": f"{medication}-symptom-{n}",
                "name": f"{medication} symptom {n}",
                "description": "Described.",
                "snomed_ct_code": "",
            }
            for n in range(1, symptoms + 1)
        ],
        "article": {"slug": slug},
        "revision": {
            "title": f"Title of {slug} {marker}".strip(),
            "topic": topic,
            "summary": f"Summary of {slug}.",
            "change_summary": "First version.",
            "sections": section_list,
            "symptom_entries": [
                {
                    "key": f"entry-{n}",
                    "position": n,
                    "symptom": f"{medication}-symptom-{n}",
                    "section": "section-1" if sections else None,
                    "text": f"Symptom text {n}.",
                    "frequency_band": "",
                    "frequency_source": "",
                }
                for n in range(1, symptoms + 1)
            ],
            "comparison_tables": [
                {
                    "key": "table-1",
                    "position": 1,
                    "caption": "A comparison",
                    "feature_heading": "Feature",
                    "section": "section-1" if sections else None,
                    "columns": [
                        {"key": f"col-{c}", "position": c, "heading": f"Column {c}"} for c in range(1, columns + 1)
                    ],
                    "rows": [
                        {
                            "key": f"row-{r}",
                            "position": r,
                            "feature": f"Feature {r}",
                            "cells": {f"col-{c}": f"Cell {r}.{c}" for c in range(1, columns + 1)},
                        }
                        for r in range(1, rows + 1)
                    ],
                }
            ],
            "action_steps": [
                {"key": f"action-{n}", "position": n, "title": f"Action {n}", "body": f"Do {n}.", "section": None}
                for n in range(1, actions + 1)
            ],
            "callouts": [
                {
                    "key": "callout-1",
                    "position": 1,
                    "kind": "warning",
                    "title": "Careful",
                    "body": "Do not stop taking your medicine without talking to your doctor.",
                }
            ],
            "references": [
                {
                    "key": key,
                    "position": n,
                    "publication_type": "journal_article",
                    "authors": "Author A",
                    "title": f"Study {n}",
                    "container_title": "Journal",
                    "publisher": "",
                    "year": 2020,
                    "volume": "1",
                    "issue": "2",
                    "pages": "3-4",
                    "doi": f"10.1000/test.{n}",
                    "pmid": "",
                    "url": "",
                    "accessed_on": None,
                    "evidence_level": "observational",
                    "needs_verification": False,
                    "verification_note": "",
                }
                for n, key in enumerate(reference_keys, start=1)
            ],
        },
    }


def as_bytes(document: Any) -> bytes:
    return json.dumps(document, indent=2).encode("utf-8")


def changed(document: dict[str, Any], **edits: Any) -> dict[str, Any]:
    """A deep copy; use dotted paths for edits, e.g. changed(doc, **{"revision.title": ""})."""
    result = copy.deepcopy(document)
    for path, value in edits.items():
        target = result
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return result


def every_branch_document(slug: str = "every-branch", medication: str = "branchamol") -> dict[str, Any]:
    """An article that takes every branch of the page and payload markup: Markdown blocks (paragraphs and
    lists in any order), HTML to escape or strip, a heading-only section, items outside sections, blank
    cells and actions, and each kind of reference detail."""
    doc = article_document(
        slug=slug, medication=medication, sections=4, references=6, rows=3, columns=3, symptoms=3, actions=3
    )
    revision = doc["revision"]
    revision["sections"][0]["heading"] = "Quotes \"x\" & <y> 'z'"
    revision["sections"][1]["body"] = (
        "# Head\n\n*em* and **strong** [@ref-2][@ref-3] [@ref-6] <script>alert(1)</script> [link](javascript:x)"
        "\n\n- a\n- b"
    )
    revision["sections"][2]["body"] = ""  # a heading alone, over the symptom placed in it
    revision["sections"][3]["body"] = "A lead-in [@ref-4]:\n\n- one\n- two\n\nText after the list.\n\n1. first"
    revision["symptom_entries"][1]["section"] = None
    revision["symptom_entries"][2]["section"] = "section-3"
    revision["symptom_entries"][2]["text"] = "Text with *em* [@ref-1] & <b>b</b>"
    table = revision["comparison_tables"][0]
    table["caption"] = 'Cap "q" & <x>'
    table["rows"][0]["cells"]["col-2"] = "cell <i>&\"'"
    table["rows"][1]["cells"]["col-3"] = ""
    revision["comparison_tables"].append({**table, "key": "table-2", "position": 2, "section": None})
    revision["action_steps"][0]["section"] = "section-2"
    revision["action_steps"][1]["body"] = ""
    revision["action_steps"][2]["title"] = "T & <t>"
    references = revision["references"]
    references[0].update(
        publication_type="web_page", authors="", title="Page", container_title="", year=None, volume="", issue="",
        pages="", doi="", url="https://example.org/a?b=1&c=2", accessed_on="2024-03-05", publisher="Pub & Co",
        evidence_level="guideline",
    )  # fmt: skip
    references[1].update(pmid="12345678", volume="", issue="7", needs_verification=True, verification_note="<Check>")
    references[2].update(container_title="", year=2019, pages="", url="https://example.org/x", accessed_on=None)
    references[3].update(title='T "q"', issue="", container_title="", year=None, volume="3")
    return doc
