"""Turning a revision's rows into what the article page shows.

Everything is computed from a revision fetched with ``with_content()``, so
building the page costs no queries beyond that fixed set.

The parts of the page that grow with the article (callouts, contents,
sections with their symptoms, tables and actions, references) are written
here as HTML strings, escaped as the template would escape them, rather than
by template loops: a template variable costs a lookup, a filter chain and an
escape each, and a 30-section article with a 40-row table has thousands of
them. The template keeps the page's frame and everything that is not content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from html import escape
from typing import Any

from django.db.models import prefetch_related_objects
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language

from .memo import BoundedMemo
from .models import AuditEntry, FrequencyBand, Reference, Revision, content_prefetches
from .rendering import CitationNumbers, render_markdown, render_markdown_inline
from .structured_data import citations, json_ld_script, medical_web_page


@dataclass
class TableView:
    key: str
    caption: str
    feature_heading: str
    columns: list[str]
    rows: list[tuple[str, list[tuple[str, str]]]]  # (feature, [(column heading, text), ...])


@dataclass
class ItemView:
    key: str
    title: str
    html: SafeString
    kind: str = ""
    # Plain text shown after the item (a symptom's frequency, ``frequency_note``); escaped when written.
    note: str = ""
    url: str = ""  # a symptom entry's: the page of live articles that mention the symptom


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
class PageViews:
    """A revision's rows as the page shows them, one view per item (``page_views``)."""

    callouts: list[ItemView]
    sections: list[SectionView]
    references: list[ReferenceView]


@dataclass(frozen=True)
class ContentParts:
    """What the revision's content alone decides on its page, as HTML: the same for every request.

    Nothing here depends on the medication or symptoms vocabulary, the review or
    the date, so the parts of a submitted revision (whose content cannot change)
    are memoised by revision and content hash (``load_article_page``).
    """

    callouts_html: SafeString
    toc_html: SafeString
    sections_html: SafeString
    references_html: SafeString
    citations: tuple[dict[str, Any], ...]  # schema.org citations, for the JSON-LD
    symptom_ids: tuple[int, ...]  # the symptoms shown, for the proxy's surrogate keys


@dataclass
class ArticlePage:
    revision: Revision
    parts: ContentParts

    @property
    def article(self) -> Any:
        return self.revision.article

    @property
    def medication(self) -> Any:
        return self.revision.article.medication

    @property
    def symptom_ids(self) -> tuple[int, ...]:
        return self.parts.symptom_ids

    @cached_property
    def json_ld(self) -> SafeString:
        """The page's schema.org JSON-LD block (``structured_data.medical_web_page``)."""
        return json_ld_script(medical_web_page(self.revision, citations=list(self.parts.citations)))


# How often a side effect happens, in the words of UK patient leaflets (the EMA QRD template's
# section 4 wording for the CIOMS III / SmPC 4.8 bands, see ``FrequencyBand``). The one place
# readers' wording of a band lives; the API sends the band's value, not these words.
FREQUENCY_WORDING: dict[str, tuple[str, str]] = {
    FrequencyBand.VERY_COMMON: ("very common", "may affect more than 1 in 10 people"),
    FrequencyBand.COMMON: ("common", "may affect up to 1 in 10 people"),
    FrequencyBand.UNCOMMON: ("uncommon", "may affect up to 1 in 100 people"),
    FrequencyBand.RARE: ("rare", "may affect up to 1 in 1,000 people"),
    FrequencyBand.VERY_RARE: ("very rare", "may affect up to 1 in 10,000 people"),
    FrequencyBand.NOT_KNOWN: ("not known", "frequency cannot be estimated from the available data"),
}
# No band stored: the article states no frequency for the symptom, which is not a band of its own.
FREQUENCY_NOT_GIVEN = "How often: not known (this article gives no frequency for this symptom)."


def frequency_note(band: str, source: str) -> str:
    """A symptom entry's frequency as readers see it, with its source (plain text, to be escaped).

    "How often: uncommon (may affect up to 1 in 100 people). Source: Amlodipine SmPC."
    An entry without a band says so: not known.
    """
    if not band:
        return FREQUENCY_NOT_GIVEN
    name, numbers = FREQUENCY_WORDING[band]
    note = f"How often: {name} ({numbers})."
    source = source.strip().rstrip(".")
    return f"{note} Source: {source}." if source else note


# The markup below is what ``articles/article_detail.html`` wrote with loops, whitespace included.


def _callout_html(callout: ItemView) -> str:
    key = escape(callout.key)
    return (
        f'\n      <aside class="callout callout--{escape(callout.kind)}" aria-labelledby="callout-{key}">'
        f'\n        <h2 class="callout__title" id="callout-{key}">{escape(callout.title)}</h2>'
        f"\n        <p>{callout.html}</p>\n      </aside>\n    "
    )


def _toc_item_html(section: SectionView) -> str:
    return f'<li><a href="#{escape(section.anchor)}">{escape(section.heading)}</a></li>'


def _symptom_link(symptom: ItemView) -> str:
    if not symptom.url:
        return ""
    return f' <a class="symptom-link" href="{escape(symptom.url)}">Articles that mention {escape(symptom.title)}</a>'


def _section_html(section: SectionView) -> str:
    anchor = escape(section.anchor)
    parts = [
        f'\n      <section class="article-section" id="{anchor}" aria-labelledby="{anchor}-heading">'
        f'\n        <h2 id="{anchor}-heading">{escape(section.heading)}</h2>\n        {section.html}\n        '
    ]
    if section.symptoms:
        items = "".join(
            f'<li>{symptom.html} <span class="symptom-frequency">{escape(symptom.note)}</span>'
            f"{_symptom_link(symptom)}</li>"
            for symptom in section.symptoms
        )
        parts.append(f'\n          <ul class="symptom-list">\n            {items}\n          </ul>\n        ')
    parts.append("\n        ")
    parts.extend(_table_html(table) for table in section.tables)
    parts.append("\n        ")
    if section.actions:
        parts.append('\n          <ul class="action-list">\n            ')
        parts.extend(
            f"\n              <li><strong>{escape(a.title)}{':' if a.html else ''}</strong> {a.html}</li>\n            "
            for a in section.actions
        )
        parts.append("\n          </ul>\n        ")
    parts.append("\n      </section>\n    ")
    return "".join(parts)


def _table_html(table: TableView) -> str:
    caption = escape(table.caption)
    # On a phone each row is shown down the screen (site.css), each text under its column's name (data-label); the
    # roles are written out because a table laid out as blocks may lose them in some browsers' accessibility trees.
    headings = "".join(f'<th scope="col" role="columnheader">{escape(heading)}</th>' for heading in table.columns)
    rows = "".join(
        '\n                  <tr role="row">'
        f'\n                    <th scope="row" role="rowheader">{escape(feature)}</th>\n                    '
        + "".join(f'<td role="cell" data-label="{escape(heading)}">{escape(text)}</td>' for heading, text in cells)
        + "\n                  </tr>\n                "
        for feature, cells in table.rows
    )
    return (
        f'\n          <div class="table-scroll" role="region" aria-label="Table: {caption}" tabindex="0">'
        '\n            <table class="comparison" role="table">'
        f'\n              <caption id="table-{escape(table.key)}-caption">{caption}</caption>'
        '\n              <thead role="rowgroup">\n                <tr role="row">'
        f'\n                  <th scope="col" role="columnheader">{escape(table.feature_heading)}</th>'
        f"\n                  {headings}"
        '\n                </tr>\n              </thead>\n              <tbody role="rowgroup">\n                '
        f"{rows}\n              </tbody>\n            </table>\n          </div>\n        "
    )


def _reference_html(item: ReferenceView) -> str:
    ref = item.reference
    accessed = ""
    if ref.url and ref.accessed_on:
        accessed = (
            f' (accessed <time datetime="{date_filter(ref.accessed_on, "Y-m-d")}">'
            f"{date_filter(ref.accessed_on, 'j F Y')}</time>)"
        )
    lines = [
        f'<li id="{escape(item.anchor)}" value="{item.number}">',
        f"{escape(ref.authors)}. " if ref.authors else "",
        f"<cite>{escape(ref.title)}</cite>. " if ref.title else "",
        escape(item.source_details),
        f"{escape(ref.publisher)}." if ref.publisher else "",
        f'<a href="{escape(item.doi_url)}">doi:{escape(ref.doi)}</a>.' if ref.doi else "",
        f'<a href="{escape(item.pubmed_url)}">PMID: {escape(ref.pmid)}</a>.' if ref.pmid else "",
        f'<a href="{escape(ref.url)}">{escape(ref.url)}</a>{accessed}.' if ref.url else "",
        f'<span class="reference__meta">{escape(str(ref.get_publication_type_display()))} · '
        f"Evidence: {escape(str(ref.get_evidence_level_display()).lower())}</span>",
    ]
    verification = ""
    if ref.needs_verification:
        verification = (
            '\n                <span class="needs-verification"><strong>Citation needs verification.</strong> '
            f"{escape(ref.verification_note)}</span>\n              "
        )
    body = "\n              ".join(lines)
    return f"\n            {body}\n              {verification}\n            </li>\n          "


def linked_html(groups: list[tuple[str, list[tuple[str, str]]]]) -> SafeString:
    """The page's links to live content of other kinds about its symptoms (``views._linked_by_symptoms``): under each
    heading, (address, title) pairs."""
    boxes = []
    for number, (heading, links) in enumerate(groups, start=1):
        items = "".join(
            f'\n            <li><a href="{escape(url)}">{escape(title)}</a></li>\n          ' for url, title in links
        )
        boxes.append(
            '\n      <section class="callout callout--information linked-content"'
            f' aria-labelledby="linked-heading-{number}">'
            f'\n        <h2 class="callout__title" id="linked-heading-{number}">{escape(heading)}</h2>'
            f"\n        <ul>\n          {items}\n        </ul>\n      </section>\n    "
        )
    return mark_safe("".join(boxes))  # noqa: S308 - escaped


def _dated(moment: Any, machine: str) -> str:
    """``<time>`` of a date or datetime (in the site's time zone, as the template's ``date`` filter shows it): its
    ``machine`` format in ``datetime``, "4 December 2026" as text; "" for none."""
    local = template_localtime(moment)
    return f'<time datetime="{escape(date_filter(local, machine))}">{escape(date_filter(local, "j F Y"))}</time>'


def review_panel_html(revision: Revision, *, preview: bool = False) -> SafeString:
    """The clinical review panel under the article's title, from its latest review (``with_review()``), or that it has
    none: what ``articles/_review_panel.html`` wrote, whitespace included. ``preview``: a draft's, without the link to
    the public page history."""
    review = revision.current_review
    if review is None:
        published = ""
        if revision.live_from:
            published = f'<p class="review-panel__dates">Published {_dated(revision.live_from, "c")}</p>'
        return mark_safe(  # noqa: S308 - escaped
            '\n\n  <aside class="review-panel review-panel--unreviewed" aria-label="Clinical review">'
            "\n    <p><strong>Not yet clinically reviewed.</strong> A clinician has not yet reviewed this content."
            f"\n      Talk to your doctor or pharmacist before acting on it.</p>\n    {published}\n  </aside>\n\n\n"
        )
    demonstration = review.reviewer_is_demonstration
    panel_class = "review-panel review-panel--demo" if demonstration else "review-panel"
    parts = [
        f'\n\n  <aside class="{panel_class}" aria-label="Clinical review">'
        f"\n    <p>Reviewed by <strong>{escape(review.reviewer_name)}</strong>, {escape(review.reviewer_credentials)}"
        f"\n      on {_dated(review.reviewed_at, 'Y-m-d')}"
        f"\n      · Next review due {_dated(review.next_review_due, 'Y-m-d')}</p>\n    "
    ]
    if demonstration:
        parts.append(
            "\n      <p><strong>Demonstration only:</strong> this review was recorded by a demonstration account,"
            " not by a real\n        clinician. The content has not been clinically reviewed.</p>\n    "
        )
    parts.append("\n    ")
    if review.is_overdue:
        parts.append(
            "\n      <p><strong>This article is due for review.</strong> It was last reviewed more than its review"
            " interval ago.</p>\n    "
        )
    history = ""
    if not preview:
        history = f'· <a href="{escape(reverse("articles:history", args=[revision.article.slug]))}">Page history</a>'
    parts.append(
        f'\n    <p class="review-panel__dates">Published {_dated(revision.live_from, "c")}'
        f"\n      {history}</p>\n  </aside>\n\n\n"
    )
    return mark_safe("".join(parts))  # noqa: S308 - escaped


def citation_numbers(revision: Revision) -> CitationNumbers:
    """References are numbered in list order: [1] is the first reference."""
    return CitationNumbers(
        (reference.key, number) for number, reference in enumerate(revision.references.all(), start=1)
    )


def page_views(revision: Revision) -> PageViews:
    """The per-item views of a revision fetched with ``with_content()``."""
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
            ItemView(
                key=entry.key,
                title=entry.symptom.name,
                html=inline(entry.text),
                note=frequency_note(entry.frequency_band, entry.frequency_source),
                url=entry.symptom.get_absolute_url(),
            )
        )
    for table in revision.comparison_tables.all():
        columns = list(table.columns.all())
        rows = []
        for row in table.rows.all():
            texts = {cell.column_id: cell.text for cell in row.cells.all()}
            rows.append((row.feature, [(column.heading, texts.get(column.pk, "")) for column in columns]))
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

    return PageViews(
        callouts=[
            ItemView(key=c.key, title=c.title, html=inline(c.body), kind=c.kind) for c in revision.callouts.all()
        ],
        sections=sections,
        references=[ReferenceView(number=numbers[r.key], reference=r) for r in revision.references.all()],
    )


def content_parts(revision: Revision) -> ContentParts:
    """The content parts of a revision fetched with ``with_content()`` (or with ``content_prefetches()``)."""
    views = page_views(revision)
    return ContentParts(
        callouts_html=mark_safe("".join(_callout_html(callout) for callout in views.callouts)),  # noqa: S308 - escaped
        toc_html=mark_safe("".join(_toc_item_html(section) for section in views.sections)),  # noqa: S308 - escaped
        sections_html=mark_safe("".join(_section_html(section) for section in views.sections)),  # noqa: S308 - escaped
        references_html=mark_safe("".join(_reference_html(item) for item in views.references)),  # noqa: S308 - escaped
        citations=tuple(citations(revision)),
        symptom_ids=tuple(dict.fromkeys(entry.symptom_id for entry in revision.symptom_entries.all())),
    )


def build_article_page(revision: Revision) -> ArticlePage:
    """The page of a revision fetched with ``with_content()``: any revision, drafts in preview included."""
    return ArticlePage(revision=revision, parts=content_parts(revision))


# Content parts of submitted revisions, per process. A revision's content cannot change once
# submitted and its content hash names it, so an entry never goes stale. The memo is bounded by
# the characters it holds, least recently used out first: a typical page's parts are tens of
# kilobytes, so a few hundred pages fit; the largest allowed article cannot crowd it much.
CONTENT_PARTS_MEMO_CHARS = 16_000_000
_memo = BoundedMemo(CONTENT_PARTS_MEMO_CHARS)


def _memo_key(revision: Revision) -> tuple[Any, ...] | None:
    if revision.is_editable or not revision.content_hash:
        return None
    # The parts show the symptoms' names and descriptions, which live outside the content
    # hash: the article's place on the public clock moves when they change (articles.live).
    # Reference labels and dates are translated: the parts are per language.
    return (revision.pk, revision.content_hash, revision.article.public_version, get_language())


def load_article_page(revision_id: int) -> ArticlePage:
    """The public page of a revision by id: 2 queries when its content parts are memoised, 12 when not.

    The revision comes with its medication, reviews and ``first_published_at``
    (for the JSON-LD); its content rows are fetched only when its parts are not
    in the memo, which is the usual case after a new day, a review, a vocabulary
    change or an evicted cache entry re-render a page whose content is the same.
    """
    revision = (
        Revision.objects.select_related("article__medication").with_review().with_first_published().get(pk=revision_id)
    )
    key = _memo_key(revision)
    parts = _memo.get(key) if key else None
    if parts is None:
        prefetch_related_objects([revision], *content_prefetches())
        parts = content_parts(revision)
        if key:
            size = len(parts.callouts_html) + len(parts.toc_html) + len(parts.sections_html)
            _memo.put(key, parts, size + len(parts.references_html))
    return ArticlePage(revision=revision, parts=parts)


@dataclass
class VocabularyChangeView:
    """A change to a medication or symptom an article shows, as its public page history tells it."""

    when: Any
    heading: str
    changes: list[str]
    reason: str
    changed_by: str
    by_demonstration: bool  # changed by a demonstration account, not a real clinician


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
        by_demonstration=bool(by.get("is_demonstration")),
    )
