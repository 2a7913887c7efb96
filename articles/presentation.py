"""Turning a revision's rows into what the article page shows.

Everything is computed from a revision fetched with ``with_content()``, so
building the page costs no queries beyond that fixed set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from .models import AuditEntry, Reference, Revision
from .rendering import render_markdown, render_markdown_inline


@dataclass
class TableView:
    key: str
    caption: str
    feature_heading: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass
class ItemView:
    key: str
    title: str
    html: SafeString
    kind: str = ""


@dataclass
class SectionView:
    anchor: str
    heading: str
    html: SafeString
    symptoms: list[ItemView] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    actions: list[ItemView] = field(default_factory=list)


@dataclass
class ReferenceView:
    number: int
    reference: Reference

    @property
    def anchor(self) -> str:
        return f"ref-{self.reference.key}"

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.reference.doi}" if self.reference.doi else ""

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.reference.pmid}/" if self.reference.pmid else ""

    @property
    def source_details(self) -> str:
        """Journal-style details: 'Diabetes. 2025;71(4):774-83.'"""
        r = self.reference
        text = r.container_title
        if r.year:
            text = f"{text}. {r.year}" if text else str(r.year)
        if r.volume:
            text += f";{r.volume}"
            if r.issue:
                text += f"({r.issue})"
        if r.pages:
            text += f":{r.pages}"
        return f"{text}." if text else ""


@dataclass
class ArticlePage:
    revision: Revision
    callouts: list[ItemView]
    sections: list[SectionView]
    references: list[ReferenceView]

    @property
    def article(self) -> Any:
        return self.revision.article

    @property
    def medication(self) -> Any:
        return self.revision.article.medication


def citation_numbers(revision: Revision) -> dict[str, int]:
    """References are numbered in list order: [1] is the first reference."""
    return {reference.key: number for number, reference in enumerate(revision.references.all(), start=1)}


def build_article_page(revision: Revision) -> ArticlePage:
    numbers = citation_numbers(revision)

    def inline(text: str) -> SafeString:
        return mark_safe(render_markdown_inline(text, numbers))  # noqa: S308 - sanitised by nh3

    sections = [
        SectionView(
            anchor=f"section-{section.key}",
            heading=section.heading,
            html=mark_safe(render_markdown(section.body, numbers)),  # noqa: S308 - sanitised by nh3
        )
        for section in revision.sections.all()
    ]
    by_id = {section.pk: view for section, view in zip(revision.sections.all(), sections, strict=True)}
    own_symptoms = SectionView(anchor="symptoms", heading="Symptoms", html=mark_safe(""))
    own_actions = SectionView(anchor="what-to-do-next", heading="What to do", html=mark_safe(""))
    own_tables = SectionView(anchor="comparison", heading="Comparison", html=mark_safe(""))

    for entry in revision.symptom_entries.all():
        by_id.get(entry.section_id, own_symptoms).symptoms.append(
            ItemView(key=entry.key, title=entry.symptom.name, html=inline(entry.text))
        )
    for table in revision.comparison_tables.all():
        columns = list(table.columns.all())
        rows = []
        for row in table.rows.all():
            texts = {cell.column_id: cell.text for cell in row.cells.all()}
            rows.append((row.feature, [texts.get(column.pk, "") for column in columns]))
        by_id.get(table.section_id, own_tables).tables.append(
            TableView(
                key=table.key,
                caption=table.caption,
                feature_heading=table.feature_heading,
                columns=[column.heading for column in columns],
                rows=rows,
            )
        )
    for step in revision.action_steps.all():
        by_id.get(step.section_id, own_actions).actions.append(
            ItemView(key=step.key, title=step.title, html=inline(step.body))
        )
    for extra in (own_symptoms, own_tables, own_actions):
        if extra.symptoms or extra.tables or extra.actions:
            sections.append(extra)

    return ArticlePage(
        revision=revision,
        callouts=[
            ItemView(key=c.key, title=c.title, html=inline(c.body), kind=c.kind) for c in revision.callouts.all()
        ],
        sections=sections,
        references=[ReferenceView(number=numbers[r.key], reference=r) for r in revision.references.all()],
    )


@dataclass
class VocabularyChangeView:
    """A change to a medication or symptom an article shows, as its public page history tells it."""

    when: Any
    heading: str
    changes: list[str]
    reason: str
    changed_by: str


def _vocabulary_value(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    return f"“{value}”" if value not in (None, "") else "(none)"


def vocabulary_change(entry: AuditEntry) -> VocabularyChangeView:
    """Read an audit entry written by ``services.medication_update`` or ``symptom_update``."""
    data = entry.data
    by = data.get("changed_by") or {}
    return VocabularyChangeView(
        when=entry.created_at,
        heading=f"{entry.get_action_display()}: {data.get('name', '')}",
        changes=[
            f"{change['label']}: {_vocabulary_value(change['from'])} → {_vocabulary_value(change['to'])}"
            for change in data.get("changes", [])
        ],
        reason=entry.comment,
        changed_by=", ".join(part for part in (by.get("name"), by.get("credentials")) if part),
    )
