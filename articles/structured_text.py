"""A revision's words as plain text, for readability scores and search."""

from __future__ import annotations

import html
import re

from .models import Revision
from .rendering import render_markdown

_TAG = re.compile(r"<[^>]+>")
_CITATION = re.compile(r"<sup class=\"citations\">.*?</sup>", re.S)


def markdown_to_text(text: str) -> str:
    rendered = _CITATION.sub("", render_markdown(text))
    return html.unescape(_TAG.sub(" ", rendered))


def revision_plain_text(revision: Revision) -> str:
    """Title, summary, sections, symptoms, actions and callouts as sentences of plain text."""
    parts = [revision.title + ".", revision.summary]
    for section in revision.sections.all():
        parts.extend([section.heading + ".", markdown_to_text(section.body)])
    parts.extend(markdown_to_text(entry.text) for entry in revision.symptom_entries.all())
    for step in revision.action_steps.all():
        parts.extend([step.title + ".", markdown_to_text(step.body)])
    for callout in revision.callouts.all():
        parts.extend([callout.title + ".", markdown_to_text(callout.body)])
    return "\n".join(part for part in parts if part.strip())
