"""Checks run on a revision before submission and shown to author and reviewer.

Errors block submission. Warnings do not, but the reviewer must acknowledge
each one when approving, and the acknowledgement is recorded with the review.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import textstat
from django.utils.text import Truncator

from .interchange.export import revision_content
from .kinds import extension_for
from .models import Revision, Section
from .rendering import MarkdownFacts, cited_keys, markdown_facts
from .structured_text import revision_plain_text
from .text import forbidden_character_problem, normalise_text

# Patient information is commonly written for a reading age of about 11 (US grade 6-8).
READING_GRADE_LIMIT = 8.0

# No dictionary word is longer (pneumonoultramicroscopicsilicovolcanoconiosis). Longer runs of
# letters are not words, and are cut to this length for the reading grade: the syllable
# counter hyphenates each word, and a 20,000-letter run would cost it about a second.
_LONGEST_WORD = 45
_OVERLONG_WORD = re.compile(rf"(\w{{{_LONGEST_WORD}}})\w+")
# How much of a line a finding quotes.
_QUOTED_LINE_CHARS = 80


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    where: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class CheckReport:
    """``errors`` block submission; ``failures`` (safety properties) block approval; ``warnings``
    must be acknowledged by the approving reviewer."""

    errors: list[Finding] = field(default_factory=list)
    failures: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def warning_codes(self) -> list[str]:
        return [warning.code for warning in self.warnings]


def _refused_characters(revision: Revision) -> list[Finding]:
    """Text the one rule refuses (``articles.text``), wherever it is in the content.

    Every boundary refuses such text, but a draft copied from content reviewed
    before the rule existed carries it over unchanged: it must be cleaned before
    anyone reviews it. Walks the canonical content, so every kind's rows count.
    """
    findings = []
    stack: list[tuple[str, Any]] = [("", revision_content(revision))]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = forbidden_character_problem(normalise_text(value))  # a CR is normalised, not refused
            if problem:
                findings.append(Finding("refused_character", f"{path} {problem}; remove it before submitting.", path))
        elif isinstance(value, dict):
            stack.extend((f"{path}.{key}" if path else key, item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return sorted(findings, key=lambda finding: finding.where)


def _empty_sections(revision: Revision, sections: list[Section]) -> list[Finding]:
    """Sections with a heading and nothing under it: no text, and no symptoms, table or action placed in them.

    A heading alone is how a section introduces the rows placed in it; a heading with
    nothing under it is a section left unfinished, so it blocks submission.
    """
    placed = {
        row.section_id
        for rows in (revision.symptom_entries.all(), revision.comparison_tables.all(), revision.action_steps.all())
        for row in rows
    }
    return [
        Finding(
            f"empty_section:{section.key}",
            f"The section “{section.heading}” has no text and nothing placed under it; "
            "write its text, place symptoms, a table or actions in it, or remove it.",
            f"section “{section.heading}”",
        )
        for section in sections
        if not section.body.strip() and section.pk not in placed
    ]


def _list_run_ons(section_facts: list[tuple[Section, MarkdownFacts]]) -> list[Finding]:
    """Sections with a line that runs on from a list item (``MarkdownFacts.lazy_lines``), quoting the first.

    Usually text meant to follow the list, shown inside its last item; rarely an item's
    second line deliberately left unindented, so a warning the reviewer can acknowledge.
    """
    return [
        Finding(
            f"list_run_on:{section.key}",
            f"The line “{Truncator(facts.lazy_lines[0]).chars(_QUOTED_LINE_CHARS)}” comes straight after a list "
            "item, so it is shown as part of that item; if it should follow the list, leave a blank line before it.",
            f"section “{section.heading}”",
        )
        for section, facts in section_facts
        if facts.lazy_lines
    ]


def _markdown_tables(section_facts: list[tuple[Section, MarkdownFacts]]) -> list[Finding]:
    """Sections with a table written in Markdown's pipe syntax (``MarkdownFacts.table_lines``), quoting its first line.

    CommonMark has no tables, so readers would see its rows run together in one paragraph of
    bars and dashes; a comparison table is the way to show one. A warning, as a line of bars
    might be meant as it is.
    """
    return [
        Finding(
            f"markdown_table:{section.key}",
            f"The lines from “{Truncator(facts.table_lines[0]).chars(_QUOTED_LINE_CHARS)}” are a table written in "
            "Markdown, which readers would see as one paragraph of bars and dashes; add it as a comparison table "
            "instead (under “Comparison tables”).",
            f"section “{section.heading}”",
        )
        for section, facts in section_facts
        if facts.table_lines
    ]


def check_revision(revision: Revision) -> CheckReport:
    """Check ``revision`` (fetched with ``with_content()``) and report errors and warnings."""
    report = CheckReport()
    if not revision.title.strip():
        report.errors.append(Finding("missing_title", "The revision has no title.", "title"))
    if not revision.topic.strip():
        report.errors.append(Finding("missing_topic", "The revision has no topic.", "topic"))
    if not revision.summary.strip():
        report.errors.append(Finding("missing_summary", "The revision has no summary.", "summary"))
    report.errors.extend(_refused_characters(revision))
    extension = extension_for(revision.article.kind)
    sections = list(revision.sections.all())
    if not sections and (extension is None or extension.has_sections):
        report.errors.append(Finding("missing_sections", "The revision has no sections.", "sections"))
    report.errors.extend(_empty_sections(revision, sections))

    references = list(revision.references.all())
    reference_keys = {reference.key for reference in references}
    cited: set[str] = set()
    # Each text is parsed once: a section body for its citations and its lines together.
    section_facts = [(section, markdown_facts(section.body)) for section in sections]
    cited_by = [
        *((f"section “{s.heading}”", facts.cited_keys) for s, facts in section_facts),
        *((f"symptom entry {e.key}", cited_keys(e.text)) for e in revision.symptom_entries.all()),
        *((f"action “{a.title}”", cited_keys(a.body)) for a in revision.action_steps.all()),
        *((f"callout “{c.title}”", cited_keys(c.body)) for c in revision.callouts.all()),
    ]
    for where, keys in cited_by:
        for key in keys:
            cited.add(key)
            if key not in reference_keys:
                report.errors.append(
                    Finding(f"unresolved_citation:{key}", f"[@{key}] cites no reference with that key.", where)
                )
    for reference in references:
        if reference.key not in cited:
            report.errors.append(
                Finding(
                    f"uncited_reference:{reference.key}",
                    f"Reference “{reference.key}” is never cited.",
                    f"reference {reference.key}",
                )
            )

    for table in revision.comparison_tables.all():
        columns, rows = list(table.columns.all()), list(table.rows.all())
        filled = any(cell.text.strip() for row in rows for cell in row.cells.all())
        if not columns or not rows or not filled:
            report.errors.append(
                Finding(
                    f"empty_table:{table.key}",
                    f"The table “{table.caption}” has no columns, rows or text.",
                    f"table {table.key}",
                )
            )

    report.warnings.extend(_list_run_ons(section_facts))
    report.warnings.extend(_markdown_tables(section_facts))
    for reference in references:
        if reference.needs_verification:
            report.warnings.append(
                Finding(
                    f"unverified_reference:{reference.key}",
                    f"Reference “{reference.key}” needs verification: {reference.verification_note}",
                    f"reference {reference.key}",
                )
            )
    if extension is not None:
        errors, failures, warnings = extension.check(revision)
        report.errors.extend(errors)
        report.failures.extend(failures)
        report.warnings.extend(warnings)
    text = _OVERLONG_WORD.sub(r"\1", revision_plain_text(revision))
    if sections and text.strip():
        grade = textstat.flesch_kincaid_grade(text)
        if grade > READING_GRADE_LIMIT:
            report.warnings.append(
                Finding(
                    "reading_grade",
                    f"Reading grade {grade:.1f} (Flesch-Kincaid) is above {READING_GRADE_LIMIT:g}; "
                    "plain language helps readers.",
                    "whole text",
                )
            )
    return report
