"""What partners receive. Every field is listed explicitly; nothing is serialised by default."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from articles.models import (
    ActionStep,
    ChangeEvent,
    ChangeKind,
    ComparisonTable,
    Medication,
    Reference,
    ReviewKind,
    Revision,
    SafetyCallout,
    Section,
    Symptom,
    SymptomEntry,
)
from articles.presentation import citation_numbers
from articles.rendering import render_markdown, render_markdown_inline
from articles.structured_data import canonical_url


class MedicationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    brand_names = serializers.ListField(child=serializers.CharField(), help_text='Brand names, e.g. ["Norvasc"].')

    class Meta:
        model = Medication
        fields = ["slug", "url", "generic_name", "brand_names", "drug_class", "rxnorm_rxcui", "atc_code"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, medication: Medication) -> str:
        return reverse("v1:medication-detail", kwargs={"slug": medication.slug}, request=self.context["request"])


class MedicationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Medication
        fields = ["slug", "generic_name", "rxnorm_rxcui", "atc_code"]


class SymptomSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Symptom
        fields = ["slug", "url", "name", "description", "snomed_ct_code"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, symptom: Symptom) -> str:
        return reverse("v1:symptom-detail", kwargs={"slug": symptom.slug}, request=self.context["request"])


class SymptomRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Symptom
        fields = ["slug", "name", "snomed_ct_code"]


# --- Review, revision and attribution blocks ----------------------------------------------


class ReviewerSerializer(serializers.Serializer):
    name = serializers.CharField(source="reviewer_name")
    credentials = serializers.CharField(source="reviewer_credentials")
    is_demonstration = serializers.BooleanField(
        source="reviewer_is_demonstration", help_text="True for a demonstration account, not a real clinician."
    )


class ReviewSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ReviewKind.choices, help_text="approval, or confirmation (reviewed, no change)."
    )
    last_reviewed = serializers.SerializerMethodField()
    next_review_due = serializers.DateField()
    reviewer = ReviewerSerializer(source="*")

    @extend_schema_field(OpenApiTypes.DATE)
    def get_last_reviewed(self, review: Any) -> str:
        return timezone.localdate(review.reviewed_at).isoformat()


class LicenceSerializer(serializers.Serializer):
    text = serializers.CharField()
    url = serializers.CharField(allow_blank=True)


def _licence() -> dict[str, str]:
    return {"text": settings.PARTNER_CONTENT_LICENCE, "url": settings.PARTNER_CONTENT_LICENCE_URL}


def updated_at(revision: Revision) -> Any:
    """When the payload last changed: the revision going live or a later public change to its article
    (a review, a change to the medication or symptoms it shows): ``Revision.payload_updated_at``."""
    return revision.payload_updated_at


class RevisionMetaSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField(source="live_from")
    change_summary = serializers.CharField()
    content_hash = serializers.CharField(help_text="SHA-256 of the canonical content the reviewer approved.")


class ReviewedContentSerializer(serializers.Serializer):
    """What every payload of reviewed content carries: identity, revision, review, attribution, licence."""

    detail_view_name = "v1:article-detail"

    slug = serializers.CharField(source="article.slug")
    url = serializers.SerializerMethodField()
    canonical_url = serializers.SerializerMethodField()
    title = serializers.CharField()
    summary = serializers.CharField()
    topic = serializers.CharField(help_text="The condition or effect it is about; reviewed with the revision.")
    medication = MedicationRefSerializer(source="article.medication")
    revision = RevisionMetaSerializer(source="*")
    review = ReviewSerializer(source="current_review", allow_null=True)
    attribution = serializers.SerializerMethodField()
    licence = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, revision: Revision) -> str:
        kwargs = {"slug": revision.article.slug}
        return reverse(self.detail_view_name, kwargs=kwargs, request=self.context["request"])

    @extend_schema_field(OpenApiTypes.URI)
    def get_canonical_url(self, revision: Revision) -> str:
        return canonical_url(revision)

    def get_attribution(self, revision: Revision) -> str:
        return settings.PARTNER_CONTENT_ATTRIBUTION

    @extend_schema_field(LicenceSerializer)
    def get_licence(self, revision: Revision) -> dict[str, str]:
        return _licence()


class ArticleSummarySerializer(ReviewedContentSerializer):
    """A live article in lists: enough to decide whether to fetch it again."""

    updated_at = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_updated_at(self, revision: Revision) -> Any:
        moment = updated_at(revision)
        return serializers.DateTimeField().to_representation(moment) if moment else None


# --- Content ---------------------------------------------------------------------------


class _Rendered:
    """Markdown fields come twice: as written, and as sanitised HTML with numbered citations."""

    def _numbers(self) -> dict[str, int]:
        return self.context["citation_numbers"]


class SectionSerializer(_Rendered, serializers.ModelSerializer):
    markdown = serializers.CharField(
        source="body",
        help_text=(
            "CommonMark: paragraphs and lists in any order. Empty when the heading introduces only the "
            "symptoms, tables or actions placed in this section (their `section` is this key)."
        ),
    )
    html = serializers.SerializerMethodField(help_text="`markdown` as sanitised HTML; empty when it is.")

    class Meta:
        model = Section
        fields = ["key", "position", "heading", "markdown", "html"]

    def get_html(self, section: Section) -> str:
        return render_markdown(section.body, self._numbers())


class SymptomEntrySerializer(_Rendered, serializers.ModelSerializer):
    symptom = SymptomRefSerializer()
    section = serializers.SerializerMethodField()
    markdown = serializers.CharField(source="text")
    html = serializers.SerializerMethodField()

    class Meta:
        model = SymptomEntry
        fields = ["key", "position", "symptom", "section", "markdown", "html", "frequency_band", "frequency_source"]

    def get_section(self, entry: SymptomEntry) -> str | None:
        return self.context["section_keys"].get(entry.section_id)

    def get_html(self, entry: SymptomEntry) -> str:
        return render_markdown_inline(entry.text, self._numbers())


class TableColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    position = serializers.IntegerField()
    heading = serializers.CharField()


class TableCellSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="The column's key.")
    text = serializers.CharField(allow_blank=True)


class TableRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    position = serializers.IntegerField()
    feature = serializers.CharField()
    cells = TableCellSerializer(many=True)


class ComparisonTableSerializer(serializers.ModelSerializer):
    section = serializers.SerializerMethodField()
    columns = serializers.SerializerMethodField()
    rows = serializers.SerializerMethodField()

    class Meta:
        model = ComparisonTable
        fields = ["key", "position", "caption", "feature_heading", "section", "columns", "rows"]

    def get_section(self, table: ComparisonTable) -> str | None:
        return self.context["section_keys"].get(table.section_id)

    @extend_schema_field(TableColumnSerializer(many=True))
    def get_columns(self, table: ComparisonTable) -> list[dict[str, Any]]:
        return _table_columns(table)

    @extend_schema_field(TableRowSerializer(many=True))
    def get_rows(self, table: ComparisonTable) -> list[dict[str, Any]]:
        return _table_rows(table)


def _table_columns(table: ComparisonTable) -> list[dict[str, Any]]:
    return [{"key": c.key, "position": c.position, "heading": c.heading} for c in table.columns.all()]


def _table_rows(table: ComparisonTable) -> list[dict[str, Any]]:
    columns = list(table.columns.all())
    rows = []
    for row in table.rows.all():
        texts = {cell.column_id: cell.text for cell in row.cells.all()}
        cells = [{"column": column.key, "text": texts.get(column.pk, "")} for column in columns]
        rows.append({"key": row.key, "position": row.position, "feature": row.feature, "cells": cells})
    return rows


class ActionStepSerializer(_Rendered, serializers.ModelSerializer):
    section = serializers.SerializerMethodField()
    markdown = serializers.CharField(source="body")
    html = serializers.SerializerMethodField()

    class Meta:
        model = ActionStep
        fields = ["key", "position", "title", "section", "markdown", "html"]

    def get_section(self, step: ActionStep) -> str | None:
        return self.context["section_keys"].get(step.section_id)

    def get_html(self, step: ActionStep) -> str:
        return render_markdown_inline(step.body, self._numbers())


class SafetyCalloutSerializer(_Rendered, serializers.ModelSerializer):
    markdown = serializers.CharField(source="body")
    html = serializers.SerializerMethodField()

    class Meta:
        model = SafetyCallout
        fields = ["key", "position", "kind", "title", "markdown", "html"]

    def get_html(self, callout: SafetyCallout) -> str:
        return render_markdown_inline(callout.body, self._numbers())


class ReferenceSerializer(serializers.ModelSerializer):
    number = serializers.SerializerMethodField(help_text="The number citations show, e.g. [1].")
    anchor = serializers.SerializerMethodField(help_text="The fragment citations in `html` link to.")

    class Meta:
        model = Reference
        fields = [
            "key", "number", "anchor", "publication_type", "authors", "title", "container_title", "publisher",
            "year", "volume", "issue", "pages", "doi", "pmid", "url", "accessed_on", "evidence_level",
            "needs_verification", "verification_note",
        ]  # fmt: skip

    def get_number(self, reference: Reference) -> int:
        return self.context["citation_numbers"][reference.key]

    def get_anchor(self, reference: Reference) -> str:
        return f"ref-{reference.key}"


class ContentSerializer(serializers.Serializer):
    """Documents the content block; ``content_data`` writes it.

    The nested serializers above describe each part for the schema, and
    ``field_by_field`` still produces it their way, so a test can hold the fast
    path to the same output (``tests/api/test_content_fast_path.py``).
    """

    sections = SectionSerializer(many=True)
    symptoms = SymptomEntrySerializer(many=True, source="symptom_entries")
    comparison_tables = ComparisonTableSerializer(many=True)
    action_steps = ActionStepSerializer(many=True)
    callouts = SafetyCalloutSerializer(many=True)
    references = ReferenceSerializer(many=True)

    def to_representation(self, revision: Revision) -> dict[str, Any]:
        return content_data(revision)

    def field_by_field(self, revision: Revision) -> dict[str, Any]:
        """The content as the declared serializers write it: slower, kept as the reference for ``content_data``."""
        # Shared by the nested serializers: citations are numbered per revision.
        self.context["citation_numbers"] = citation_numbers(revision)
        self.context["section_keys"] = {section.pk: section.key for section in revision.sections.all()}
        return super().to_representation(revision)


# --- The content block as plain data -----------------------------------------------------
# A 30-section article is hundreds of rows: through nested serializers each field of each row
# costs a field object's lookup and conversion. These functions write the same JSON directly
# (the fields are strings, integers, booleans and one date, none of which DRF changes), in the
# declared order, and the Markdown is rendered through ``articles.rendering``'s memo.


def content_data(revision: Revision) -> dict[str, Any]:
    """The ``content`` block of a revision fetched with ``with_content()``: what ``ContentSerializer`` documents."""
    numbers = citation_numbers(revision)
    sections = {section.pk: section.key for section in revision.sections.all()}
    return {
        "sections": [
            {
                "key": s.key,
                "position": s.position,
                "heading": s.heading,
                "markdown": s.body,
                "html": render_markdown(s.body, numbers),
            }
            for s in revision.sections.all()
        ],
        "symptoms": [_symptom_entry(entry, numbers, sections) for entry in revision.symptom_entries.all()],
        "comparison_tables": [_table(table, sections) for table in revision.comparison_tables.all()],
        "action_steps": [
            {
                "key": a.key,
                "position": a.position,
                "title": a.title,
                "section": sections.get(a.section_id),
                "markdown": a.body,
                "html": render_markdown_inline(a.body, numbers),
            }
            for a in revision.action_steps.all()
        ],
        "callouts": [
            {
                "key": c.key,
                "position": c.position,
                "kind": c.kind,
                "title": c.title,
                "markdown": c.body,
                "html": render_markdown_inline(c.body, numbers),
            }
            for c in revision.callouts.all()
        ],
        "references": [_reference(r, numbers) for r in revision.references.all()],
    }


def _symptom_entry(entry: SymptomEntry, numbers: dict[str, int], sections: dict[int, str]) -> dict[str, Any]:
    symptom = entry.symptom
    return {
        "key": entry.key,
        "position": entry.position,
        "symptom": {"slug": symptom.slug, "name": symptom.name, "snomed_ct_code": symptom.snomed_ct_code},
        "section": sections.get(entry.section_id),
        "markdown": entry.text,
        "html": render_markdown_inline(entry.text, numbers),
        "frequency_band": entry.frequency_band,
        "frequency_source": entry.frequency_source,
    }


def _table(table: ComparisonTable, sections: dict[int, str]) -> dict[str, Any]:
    return {
        "key": table.key,
        "position": table.position,
        "caption": table.caption,
        "feature_heading": table.feature_heading,
        "section": sections.get(table.section_id),
        "columns": _table_columns(table),
        "rows": _table_rows(table),
    }


def _reference(reference: Reference, numbers: dict[str, int]) -> dict[str, Any]:
    r = reference
    return {
        "key": r.key,
        "number": numbers[r.key],
        "anchor": f"ref-{r.key}",
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


def _is_current(revision: Revision, context: dict[str, Any]) -> bool:
    """Whether ``revision`` is the article's live one now: the view's live identity says (``articles.live``), as
    it says for the public history page, so a due scheduled revision is current and the one it hides is not."""
    return revision.pk == context["live_revision_id"]


class ArticleDetailSerializer(ArticleSummarySerializer):
    """A live (or pinned) revision with its whole structured content."""

    is_current = serializers.SerializerMethodField(help_text="Whether this is the article's live revision.")
    vocabulary_as_of = serializers.SerializerMethodField(
        help_text=(
            "Null: the medication and symptom details (names, codes) are as they are now, as the article's page "
            "shows them (the live revision). A moment: they are as they stood then, at the last clinical review of "
            "this revision, which is no longer live: the names its reviewer approved, whatever a reviewer changed "
            "since (listed in the page history)."
        )
    )
    content = ContentSerializer(source="*")

    def get_is_current(self, revision: Revision) -> bool:
        return _is_current(revision, self.context)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_vocabulary_as_of(self, revision: Revision) -> Any:
        moment = getattr(revision, "vocabulary_as_of", None)
        return serializers.DateTimeField().to_representation(moment) if moment else None


class RevisionHistorySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField(source="live_from")
    change_summary = serializers.CharField()
    content_hash = serializers.CharField()
    is_current = serializers.SerializerMethodField()
    withdrawn_at = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "When this revision was withdrawn from the public site; null if it never was. From then until the "
            "next revision's `published_at` the article's address answered 410 Gone."
        ),
    )
    review = ReviewSerializer(source="current_review", allow_null=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, revision: Revision) -> str:
        kwargs = {"slug": revision.article.slug, "number": revision.number}
        return reverse("v1:article-revision-detail", kwargs=kwargs, request=self.context["request"])

    def get_is_current(self, revision: Revision) -> bool:
        return _is_current(revision, self.context)


class ChangeEventSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=(
            "The event's place in the feed. Null for a scheduled publication whose time has come but that "
            "is not recorded yet: it is live already, and comes again with an id once recorded."
        ),
    )
    type = serializers.ChoiceField(
        source="kind",
        choices=ChangeKind.choices,
        help_text="published: the revision is live; superseded and withdrawn: it no longer is.",
    )
    article = serializers.CharField(source="article.slug")
    revision = serializers.IntegerField(source="revision.number")
    content_hash = serializers.CharField(source="revision.content_hash")
    occurred_at = serializers.DateTimeField(help_text="When it happened (the revision went live or stopped being).")
    revision_url = serializers.SerializerMethodField()

    class Meta:
        model = ChangeEvent
        fields = ["id", "type", "article", "revision", "occurred_at", "content_hash", "revision_url"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_revision_url(self, event: ChangeEvent) -> str:
        kwargs = {"slug": event.article.slug, "number": event.revision.number}
        return reverse("v1:article-revision-detail", kwargs=kwargs, request=self.context["request"])


class ChangeFeedSerializer(serializers.Serializer):
    events = ChangeEventSerializer(many=True)
    next = serializers.URLField(help_text="Request this next; it continues after the last event here.")
    has_more = serializers.BooleanField(help_text="False when you have caught up; poll `next` later.")


class CodeSystemSerializer(serializers.Serializer):
    oid = serializers.CharField(help_text="The code system's OID, as asked for.")
    name = serializers.CharField(help_text="Its name: RxNorm, WHO ATC or SNOMED CT.")


class LookupResultSerializer(serializers.Serializer):
    code_system = CodeSystemSerializer()
    code = serializers.CharField()
    next = serializers.URLField(allow_null=True, help_text="The next page (cursor pagination, as the list).")
    previous = serializers.URLField(allow_null=True, help_text="The previous page.")
    results = ArticleSummarySerializer(many=True)
