"""Admin for authors: medications, symptoms, articles and their revisions.

Content rows are edited only while a revision is editable (draft, changes
requested); everything else is shown read-only. State changes call the
functions in ``articles.services``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from . import services
from .models import (
    ActionStep,
    Article,
    ComparisonCell,
    ComparisonColumn,
    ComparisonRow,
    ComparisonTable,
    Medication,
    Reference,
    Revision,
    RevisionState,
    SafetyCallout,
    Section,
    Symptom,
    SymptomEntry,
)
from .models.content import new_key


@admin.register(Medication)
class MedicationAdmin(admin.ModelAdmin):
    list_display = ["generic_name", "drug_class", "rxnorm_rxcui", "atc_code"]
    search_fields = ["generic_name", "brand_names", "rxnorm_rxcui", "atc_code"]
    prepopulated_fields = {"slug": ["generic_name"]}


@admin.register(Symptom)
class SymptomAdmin(admin.ModelAdmin):
    list_display = ["name", "snomed_ct_code"]
    search_fields = ["name", "description", "snomed_ct_code"]
    prepopulated_fields = {"slug": ["name"]}


# --- Articles -------------------------------------------------------------------


class ArticleAddForm(forms.ModelForm):
    title = forms.CharField(max_length=200, help_text="Title of the first draft.")
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Summary of the first draft.")

    class Meta:
        model = Article
        fields = ["slug", "medication", "topic"]


class RevisionListInline(admin.TabularInline):
    model = Revision
    fields = ["revision_link", "state", "title", "created_by", "updated_at", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["-number"]

    @admin.display(description="Revision")
    def revision_link(self, revision: Revision) -> str:
        url = reverse("admin:articles_revision_change", args=[revision.pk])
        return format_html('<a href="{}">Revision {}</a>', url, revision.number)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["slug", "medication", "topic", "created_at"]
    list_filter = ["medication"]
    search_fields = ["slug", "topic", "revisions__title"]
    inlines = [RevisionListInline]
    actions = ["start_draft"]

    def get_form(self, request: HttpRequest, obj: Article | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ArticleAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Article | None = None) -> list[str]:
        return ["slug", "medication", "topic"] + ([] if obj else ["title", "summary"])

    def get_readonly_fields(self, request: HttpRequest, obj: Article | None = None) -> list[str]:
        # The slug is the public address and the medication the identity: fixed once created.
        return ["slug", "medication"] if obj else []

    def get_prepopulated_fields(self, request: HttpRequest, obj: Article | None = None) -> dict[str, Any]:
        return {} if obj else {"slug": ["topic"]}

    def get_inlines(self, request: HttpRequest, obj: Article | None) -> list[Any]:
        return self.inlines if obj else []

    def has_delete_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Article, form: forms.ModelForm, change: bool) -> None:
        if change:
            obj.save()
            return
        revision = services.article_create(
            article=obj, title=form.cleaned_data["title"], summary=form.cleaned_data["summary"], actor=request.user
        )
        request._first_revision = revision  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: Article, post_url_continue: str | None = None) -> HttpResponse:
        revision = getattr(request, "_first_revision", None)
        if revision is not None:
            self.message_user(request, "Article created. Now write its first draft.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision.pk]))
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Start a new draft (copy of the live or latest revision)", permissions=["add"])
    def start_draft(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        for article in queryset:
            source = article.revisions.published().first() or article.revisions.first()
            revision = services.revision_create_draft(article=article, actor=request.user, based_on=source)
            self.message_user(request, f"Started draft revision {revision.number} of {article}.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and request.user.has_perm("articles.add_revision")


# --- Revisions and their content -------------------------------------------------


class RowKeyForm(forms.ModelForm):
    """New rows get a generated key unless the author types one.

    The key is not pre-filled in the blank form: the admin copies that form for
    every "Add another", and a pre-filled key would be the same in each copy.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key = self.fields.get("key")
        if key is not None and self.instance._state.adding:
            key.required = False
            key.help_text = "Leave empty for a generated key; keep it unchanged once saved."
            self.initial["key"] = ""

    def clean_key(self) -> str:
        return self.cleaned_data.get("key") or new_key()


class PositionFormSet(BaseInlineFormSet):
    """Positions must be distinct within a list, as in import files."""

    def clean(self) -> None:
        super().clean()
        seen: set[int] = set()
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            position = form.cleaned_data.get("position")
            if position in seen:
                form.add_error("position", "Another row already has this position.")
            seen.add(position)


class ContentInline:
    """Rows of a revision: editable only while the revision is."""

    form = RowKeyForm
    formset = PositionFormSet
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0

    def _editable(self, request: HttpRequest, obj: Revision | None) -> bool:
        return obj is not None and obj.is_editable and request.user.has_perm("articles.change_revision")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("articles.view_revision")

    def get_formset(self, request: HttpRequest, obj: Revision | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)  # type: ignore[misc]
        section_field = formset.form.base_fields.get("section")
        if section_field is not None:
            section_field.queryset = Section.objects.filter(revision=obj) if obj else Section.objects.none()
        return formset


class SectionInline(ContentInline, admin.StackedInline):
    model = Section
    fields = [("heading", "position", "key"), "body"]


class SymptomEntryInline(ContentInline, admin.StackedInline):
    model = SymptomEntry
    fields = [("symptom", "section", "position", "key"), "text", ("frequency_band", "frequency_source")]
    autocomplete_fields = ["symptom"]


class ComparisonTableInline(ContentInline, admin.StackedInline):
    model = ComparisonTable
    fields = [("caption", "feature_heading"), ("section", "position", "key"), "edit_cells"]
    readonly_fields = ["edit_cells"]

    @admin.display(description="Columns, rows and cells")
    def edit_cells(self, table: ComparisonTable) -> str:
        if not table.pk:
            return "Save first, then add columns and rows."
        url = reverse("admin:articles_comparisontable_change", args=[table.pk])
        return format_html('<a href="{}">Edit the columns, rows and cells of this table</a>', url)


class ActionStepInline(ContentInline, admin.StackedInline):
    model = ActionStep
    fields = [("title", "section", "position", "key"), "body"]


class SafetyCalloutInline(ContentInline, admin.StackedInline):
    model = SafetyCallout
    fields = [("title", "kind", "position", "key"), "body"]


class ReferenceInline(ContentInline, admin.StackedInline):
    model = Reference
    fields = [
        ("key", "position", "publication_type", "evidence_level"),
        "authors",
        "title",
        ("container_title", "publisher"),
        ("year", "volume", "issue", "pages"),
        ("doi", "pmid"),
        ("url", "accessed_on"),
        ("needs_verification", "verification_note"),
    ]


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "state", "created_by", "updated_at", "published_at"]
    list_filter = ["state", "article__medication"]
    search_fields = ["title", "article__slug"]
    list_select_related = ["article", "created_by"]
    readonly_fields = [
        "article",
        "number",
        "state",
        "based_on",
        "created_by",
        "created_at",
        "updated_at",
        "published_at",
        "content_hash",
        "public_link",
    ]
    fieldsets = [
        (None, {"fields": ["title", "summary", "change_summary"]}),
        (
            "Record",
            {
                "fields": [
                    ("article", "number", "state"),
                    ("created_by", "created_at", "updated_at"),
                    ("based_on", "published_at"),
                    "content_hash",
                    "public_link",
                ]
            },
        ),
    ]
    inlines = [
        SafetyCalloutInline,
        SectionInline,
        SymptomEntryInline,
        ComparisonTableInline,
        ActionStepInline,
        ReferenceInline,
    ]
    actions = ["publish"]

    @admin.display(description="Public page")
    def public_link(self, revision: Revision) -> str:
        if revision.state != RevisionState.PUBLISHED:
            return "Not live"
        return format_html('<a href="{}">{}</a>', revision.get_absolute_url(), revision.get_absolute_url())

    def get_readonly_fields(self, request: HttpRequest, obj: Revision | None = None) -> list[str]:
        if obj is not None and not obj.is_editable:
            return [*self.readonly_fields, "title", "summary", "change_summary"]
        return list(self.readonly_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Drafts start from an article: "Add article" or its "Start a new draft" action.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Revision | None = None) -> bool:
        return False

    @admin.action(description="Publish the selected revisions", permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Revision]) -> None:
        for revision in queryset:
            try:
                revision = services.revision_publish(revision=revision, actor=request.user)
            except (ValidationError, PermissionDenied) as error:
                self.message_user(
                    request, f"{revision}: {'; '.join(getattr(error, 'messages', [str(error)]))}", messages.ERROR
                )
            else:
                self.message_user(request, f"Published {revision}.", messages.SUCCESS)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("articles.publish_revision")


# --- Comparison tables: columns, rows and a grid of cells ---------------------------


class ColumnInline(ContentInline, admin.TabularInline):
    model = ComparisonColumn
    fields = ["heading", "position", "key"]

    def _editable(self, request: HttpRequest, obj: Any) -> bool:
        return super()._editable(request, obj.revision if obj else None)


class RowForm(RowKeyForm):
    """A row with one text field per column of its table (``cell_<column id>``)."""

    columns: list[ComparisonColumn] = []

    class Meta:
        model = ComparisonRow
        fields = ["feature", "position", "key"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            texts = {cell.column_id: cell.text for cell in self.instance.cells.all()}
            for column in self.columns:
                self.initial[f"cell_{column.pk}"] = texts.get(column.pk, "")

    def save(self, commit: bool = True) -> ComparisonRow:
        row = super().save(commit=commit)
        if commit:
            for column in self.columns:
                ComparisonCell.objects.update_or_create(
                    row=row, column=column, defaults={"text": self.cleaned_data.get(f"cell_{column.pk}", "")}
                )
        return row


class RowInline(ContentInline, admin.TabularInline):
    model = ComparisonRow
    form = RowForm

    def _editable(self, request: HttpRequest, obj: Any) -> bool:
        return super()._editable(request, obj.revision if obj else None)

    def _columns(self, table: ComparisonTable | None) -> list[ComparisonColumn]:
        return list(table.columns.all()) if table else []

    def get_fields(self, request: HttpRequest, obj: ComparisonTable | None = None) -> list[str]:
        if not self._editable(request, obj):
            return ["feature", "cells_text", "position", "key"]
        return ["feature", *[f"cell_{column.pk}" for column in self._columns(obj)], "position", "key"]

    @admin.display(description="Cells")
    def cells_text(self, row: ComparisonRow) -> str:
        cells = row.cells.select_related("column").order_by("column__position")
        return format_html_join(
            mark_safe("<br>"), "<strong>{}</strong>: {}", ((c.column.heading, c.text) for c in cells)
        )

    def get_formset(self, request: HttpRequest, obj: ComparisonTable | None = None, **kwargs: Any) -> Any:
        columns = self._columns(obj)
        cell_fields = {
            f"cell_{column.pk}": forms.CharField(
                label=column.heading, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 30})
            )
            for column in columns
        }
        kwargs["form"] = type("TableRowForm", (RowForm,), {**cell_fields, "columns": columns})
        return super().get_formset(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: ComparisonTable | None = None) -> list[str]:
        if self._editable(request, obj):
            return []
        return ["feature", "cells_text", "position", "key"]


@admin.register(ComparisonTable)
class ComparisonTableAdmin(admin.ModelAdmin):
    """Reached from a revision's table list; columns first, then one row per feature."""

    fields = ["revision", "caption", "feature_heading"]
    readonly_fields = ["revision", "caption", "feature_heading"]
    inlines = [ColumnInline, RowInline]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ComparisonTable]:
        return super().get_queryset(request).select_related("revision__article")
