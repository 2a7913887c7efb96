"""Admin for authors, clinical reviewers and publishers.

Content rows are edited only while a revision is editable (draft, changes
requested); everything else is shown read-only. Saving a draft and every
workflow step call the functions in ``articles.services``, which check
permissions again, so the buttons shown here are a convenience, not the guard.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.forms.formsets import TOTAL_FORM_COUNT
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import smart_split, unescape_string_literal

from contentsite.admin import BoundedCountPaginator, BoundedDeletionMixin, BoundedListMixin, ReadOnlyAdminMixin
from contentsite.numbers import whole_number

from . import forms as workflow_forms
from . import revision_notes, services
from .content_checks import check_revision
from .dashboard import REVISION_WORKLISTS
from .diff import diff_contents
from .interchange.export import revision_content
from .kinds import kind_for
from .limits import MAX_BRAND_NAMES, MAX_CELL_CHARS, MAX_COMMENT_CHARS, MAX_POSITION, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS
from .models import (
    ActionStep,
    AmongIds,
    Article,
    AuditEntry,
    ComparisonCell,
    ComparisonColumn,
    ComparisonRow,
    ComparisonTable,
    Medication,
    NotificationSettings,
    OverdueReview,
    Reference,
    ReviewComment,
    ReviewerProfile,
    ReviewQueueItem,
    Revision,
    RevisionState,
    SafetyCallout,
    ScheduledPublication,
    Section,
    Symptom,
    SymptomEntry,
)
from .models.content import new_key
from .presentation import build_article_page, review_panel_html
from .structured_data import json_ld_script, medical_web_page
from .text import TextFormField

# --- The shared vocabulary: created freely, changed only through the audited service -----


class VocabularyChangeForm(forms.ModelForm):
    """A change to an entry that live articles may show: with the reason readers will see."""

    reason = TextFormField(
        max_length=MAX_COMMENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why it changes. Readers see this, with your name, in the page history of every article listed.",
    )
    # The version the editor started from, so that a change based on a stale copy is refused.
    updated_at_seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["updated_at_seen"].initial = self.instance.updated_at.isoformat()

    def clean_updated_at_seen(self) -> Any:
        seen = self.cleaned_data.get("updated_at_seen")
        try:
            return datetime.datetime.fromisoformat(seen) if seen else None
        except ValueError:
            raise ValidationError("Reload the page and make the change again.", code="stale") from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        seen = cleaned.get("updated_at_seen")
        if seen is not None and seen != self.instance.updated_at:
            what = self.instance._meta.verbose_name
            raise ValidationError(services.STALE_VOCABULARY_MESSAGE.format(what=what), code="stale")
        if not set(self.changed_data) - {"reason", "updated_at_seen"}:
            raise ValidationError("Nothing changed.", code="no_change")
        return cleaned


# Articles a medication's or symptom's page lists by name; the rest are counted, up to as many as a list counts.
USED_BY_SHOWN = 20
USED_BY_COUNTED = BoundedCountPaginator.limit


class VocabularyAdmin(BoundedDeletionMixin, admin.ModelAdmin):
    """Adding an entry is open to authors: nobody sees it until reviewed content that uses it goes live.

    Changing one shows on every article using it at once, outside any review, so
    it needs the reviewer-level ``amend_*`` permission and goes through the audited
    service (``services.medication_update`` / ``symptom_update``), never a plain save.
    """

    public_fields: tuple[str, ...]
    amend_permission: str
    update: Any
    formfield_overrides = {models.JSONField: {"form_class": workflow_forms.BoundedJSONFormField}}

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            kwargs["form"] = VocabularyChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["slug", *self.public_fields]
        fields = ["slug", "used_by", *self.public_fields]
        if self.has_change_permission(request, obj):
            fields += ["reason", "updated_at_seen"]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The slug is the entry's identity in addresses and import files: fixed once created.
        return ["slug", "used_by"] if obj is not None else []

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {} if obj is not None else super().get_prepopulated_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(f"articles.{self.amend_permission}")

    @admin.display(description="Shown by")
    def used_by(self, entry: Any) -> str:
        """The first ``USED_BY_SHOWN`` articles by slug, and how many there are in all (past ``USED_BY_COUNTED``,
        "more than").

        An entry may be shown by every article of the library (a common symptom, a medicine with thousands of
        articles): the page reads the ids of at most ``USED_BY_COUNTED`` of them by index, lists a page's worth and
        counts the rest, rather than reading and drawing them all, or walking the library for a rare one.
        """
        ids = Article.objects.ids_using_vocabulary(entry, limit=USED_BY_COUNTED + 1)
        articles = list(Article.objects.filter(pk__in=ids).order_by("slug")[: USED_BY_SHOWN + 1])
        if not articles:
            return "No article uses it yet."
        more = len(articles) > USED_BY_SHOWN
        articles = articles[:USED_BY_SHOWN]
        live = set(
            Revision.objects.published()
            .filter(article_id__in=[a.pk for a in articles])
            .values_list("article_id", flat=True)
        )
        listed = format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{}</a> ({})',
            (
                (reverse("admin:articles_article_change", args=[a.pk]), a.slug, "live" if a.pk in live else "not live")
                for a in articles
            ),
        )
        if not more:
            return listed
        if len(ids) > USED_BY_COUNTED:
            return format_html("{}<br>and more (more than {} in all)", listed, USED_BY_COUNTED)
        return format_html("{}<br>and {} more ({} in all)", listed, len(ids) - len(articles), len(ids))

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        try:
            self.update(
                obj,
                actor=request.user,
                changes={name: form.cleaned_data[name] for name in form.changed_data if name in self.public_fields},
                reason=form.cleaned_data["reason"],
                expected_updated_at=form.cleaned_data["updated_at_seen"],
            )
        except PermissionDenied as error:  # e.g. no complete reviewer profile: say so, as for a refused change
            raise ValidationError(str(error), code="permission_denied") from error
        obj.refresh_from_db()

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:  # the service refused what the form allowed: someone else was quicker
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)


@admin.register(Medication)
class MedicationAdmin(VocabularyAdmin):
    list_display = ["generic_name", "drug_class", "rxnorm_rxcui", "atc_code"]
    search_fields = ["generic_name", "brand_names", "rxnorm_rxcui", "atc_code"]
    prepopulated_fields = {"slug": ["generic_name"]}
    public_fields = services.MEDICATION_PUBLIC_FIELDS
    amend_permission = "amend_medication"

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "brand_names":
            return workflow_forms.LineListField(
                label="Brand names",
                required=False,
                max_items=MAX_BRAND_NAMES,
                max_item_chars=MAX_TITLE_CHARS,
                help_text=f"One brand name per line, e.g. Norvasc. At most {MAX_BRAND_NAMES}, "
                f"each at most {MAX_TITLE_CHARS} characters.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def update(self, medication: Medication, **kwargs: Any) -> Medication:
        return services.medication_update(medication=medication, **kwargs)


@admin.register(Symptom)
class SymptomAdmin(VocabularyAdmin):
    list_display = ["name", "snomed_ct_code"]
    search_fields = ["name", "description", "snomed_ct_code"]
    prepopulated_fields = {"slug": ["name"]}
    public_fields = services.SYMPTOM_PUBLIC_FIELDS
    amend_permission = "amend_symptom"

    def update(self, symptom: Symptom, **kwargs: Any) -> Symptom:
        return services.symptom_update(symptom=symptom, **kwargs)


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(admin.ModelAdmin):
    """Managed by administrators, who check a reviewer's registration before it is shown to readers."""

    list_display = ["display_name", "credentials", "registration_body", "registration_number", "is_demonstration"]
    search_fields = ["display_name", "user__username", "registration_number"]
    autocomplete_fields = ["user"]


# --- Audit log: read-only for everyone, superusers included -------------------------


@admin.register(AuditEntry)
class AuditEntryAdmin(BoundedListMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "article", "revision_number", "action", "by", "from_state", "to_state", "comment"]
    list_filter = ["action", "created_at"]
    # The names each entry recorded, and the account's user name today (found by either after a rename).
    search_fields = ["article__slug", "comment", "actor_name", "actor_username", "actor__username"]
    list_select_related = ["article", "revision"]
    actions = None
    # Newest first, by id (the order entries are written in; by index, searched or not): the list pages only its first
    # rows (``BoundedCountPaginator``), and oldest first put the step taken a minute ago on no page of a long log.
    # Sorted only by the time, which an index orders: any other column read and sorted every entry of the log (0.3-0.9 s
    # at 300,000). No date hierarchy: its years, months or days were a DISTINCT over every entry listed, on every page
    # (0.13 s unfiltered, 1.5 s searching for a reviewer's name); the search, the action and the date filter
    # ("created_at": today, past 7 days, this month, this year) narrow it.
    ordering = ["-pk"]
    sortable_by = ["created_at"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEntry], search_term: str
    ) -> tuple[QuerySet[AuditEntry], bool]:
        """Each word in the article's slug, the comment, or the actor's user name today or names as the entry
        recorded them, as Django's search, without joining every entry to its article and actor: the entries that
        match, found by index (the trigram indexes of the slug, ``0103``, and of the comment and the recorded names,
        ``0106``; the article and the actor of an entry are indexed), narrow the list."""

        def matching(word: str) -> QuerySet[Any]:
            articles = Article.objects.filter(slug__icontains=word).order_by().values("pk")
            # The staff accounts, a short list, read first: given their ids the planner knows how many entries each
            # has (asked as a subquery, it guesses the average actor's share of the log and reads all of it).
            actors = list(get_user_model().objects.filter(username__icontains=word).values_list("pk", flat=True))
            entries = AuditEntry.objects.order_by().values("pk")
            return (
                entries.filter(article__in=articles)
                .union(entries.filter(comment__icontains=word))
                .union(entries.filter(actor__in=actors))
                # The names the entry recorded, as the actor was named then (``AuditEntry.actor_name``).
                .union(entries.filter(actor_name__icontains=word))
                .union(entries.filter(actor_username__icontains=word))
            )

        return _each_word_matching(queryset, search_term, matching), False

    @admin.display(description="Revision", ordering="revision__number")
    def revision_number(self, entry: AuditEntry) -> Any:
        return entry.revision.number if entry.revision else "-"

    @admin.display(description="Actor")
    def by(self, entry: AuditEntry) -> str:
        return actor_label(entry)


def actor_label(entry: AuditEntry) -> str:
    """Who took a step, as they were named then (``AuditEntry.actor_label``); '-' for the system."""
    return entry.actor_label or "-"


class FoldingTable:
    """A read-only list shown as a table that folds, with its count (``admin/articles/edit_inline/tabular.html``)."""

    template = "admin/articles/edit_inline/tabular.html"

    class Media:
        css = {"all": ["css/admin-order.css"]}


class AuditInline(FoldingTable, ReadOnlyAdminMixin, admin.TabularInline):
    model = AuditEntry
    fields = ["created_at", "action", "by", "from_state", "to_state", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["pk"]
    verbose_name_plural = "audit log"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEntry]:
        # Each row is named by its entry (``AuditEntry.__str__``: its revision and article); its actor by the names
        # the entry recorded.
        return super().get_queryset(request).select_related("article", "revision__article")

    @admin.display(description="Actor")
    def by(self, entry: AuditEntry) -> str:
        return actor_label(entry)


class LatestRowsFormSet(BaseInlineFormSet):
    """An inline of a list that grows with an article's history: its latest ``shown`` rows (by ``latest_first``), in
    the inline's order; ``total_rows`` counts them all and ``all_rows_url`` lists them all (the ``changelist``
    searched for the article's slug). The heading says so (``admin/articles/edit_inline/_count.html``)."""

    shown: int
    latest_first: str
    changelist: str

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "_latest", None) is None:
            rows = super().get_queryset()
            self.total_rows = rows.count()
            self.all_rows_url = reverse(self.changelist) + "?" + urlencode({"q": self.instance.slug})
            latest = rows.order_by(self.latest_first).values("pk")[: self.shown]
            self._latest = rows.filter(pk__in=Subquery(latest))
        return self._latest

    @property
    def rows_left_out(self) -> bool:
        """Whether the list has more rows than the page shows (its heading then says so and links to them all)."""
        return self.total_rows > self.initial_form_count()


# An article's page shows this many of its latest audit entries: the log grows with every step of every revision
# and every change of its medication (3,020 entries were 5.7 MB and 10 s); the whole log is in the audit list.
ARTICLE_AUDIT_SHOWN = 100


class LatestAuditFormSet(LatestRowsFormSet):
    """The article's latest ``ARTICLE_AUDIT_SHOWN`` audit entries, oldest first."""

    shown = ARTICLE_AUDIT_SHOWN
    latest_first = "-pk"
    changelist = "admin:articles_auditentry_changelist"


class ArticleAuditInline(AuditInline):
    fields = ["created_at", "revision", "action", "by", "from_state", "to_state", "comment"]
    readonly_fields = fields
    formset = LatestAuditFormSet

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEntry]:
        return super().get_queryset(request).select_related("revision")


class CommentInline(FoldingTable, ReadOnlyAdminMixin, admin.TabularInline):
    model = ReviewComment
    fields = ["created_at", "author", "section_key", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "review comments"


# --- Articles -------------------------------------------------------------------


class ArticleAddForm(forms.ModelForm):
    # The topic, title and summary belong to the first draft: they are reviewed with it.
    topic = TextFormField(
        single_line=True,
        max_length=Revision._meta.get_field("topic").max_length,
        help_text="The condition or effect the article is about, e.g. 'Peripheral neuropathy'.",
    )
    title = TextFormField(single_line=True, max_length=MAX_TITLE_CHARS, help_text="Title of the first draft.")
    summary = TextFormField(
        max_length=MAX_SUMMARY_CHARS, widget=forms.Textarea(attrs={"rows": 3}), help_text="Summary of the first draft."
    )

    class Meta:
        model = Article
        fields = ["slug", "medication"]


# An article's page lists this many of its latest revisions: one more with every new draft (503 revisions were 1 MB and
# 2 s); they are all in the revision list.
ARTICLE_REVISIONS_SHOWN = 50


class LatestRevisionsFormSet(LatestRowsFormSet):
    """The article's latest ``ARTICLE_REVISIONS_SHOWN`` revisions, newest first."""

    shown = ARTICLE_REVISIONS_SHOWN
    latest_first = "-number"
    changelist = "admin:articles_revision_changelist"


class RevisionListInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Revision
    formset = LatestRevisionsFormSet
    template = "admin/articles/edit_inline/latest_tabular.html"
    fields = ["revision_link", "state", "title", "created_by", "updated_at", "published_at", "notes"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["-number"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Revision]:
        # Each row is named by its revision (``Revision.__str__``: its article) and shows its author: read with it,
        # not one query each (an article with 503 revisions ran 1,015 queries).
        return revision_notes.annotate(super().get_queryset(request)).select_related("article", "created_by")

    @admin.display(description="Notes")
    def notes(self, revision: Revision) -> str:
        """What other apps note about each revision (``articles.revision_notes``), such as reader feedback."""
        return format_html_join(mark_safe("<br>"), "{}: {}", revision_notes.describe(revision)) or "-"

    @admin.display(description="Revision")
    def revision_link(self, revision: Revision) -> str:
        url = reverse("admin:articles_revision_change", args=[revision.pk])
        return format_html('<a href="{}">Revision {}</a>', url, revision.number)


@admin.register(Article)
class ArticleAdmin(BoundedListMixin, admin.ModelAdmin):
    """Creates an article with its first draft; afterwards everything readers see changes in revisions.

    The slug is the public address and the medication the identity: fixed once
    created. The topic, like all the words, is part of each revision.
    """

    list_display = ["slug", "medication", "latest_topic", "created_at"]
    # Sorted only by what an index orders (slug; medication, then slug): sorting by the latest topic or the date
    # created read and sorted every article of the library (0.45 s at 100,000). The search and the filter narrow.
    sortable_by = ["slug", "medication"]
    list_filter = ["medication"]
    search_fields = ["slug", "revisions__topic", "revisions__title"]
    inlines = [RevisionListInline, ArticleAuditInline]
    actions = ["start_draft"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Article], search_term: str) -> Any:
        """Each word in the slug or in any revision's topic or title, as Django's search, without joining every article
        to every revision: the ids that match, found by index (``0103_search_trigram_indexes``), narrow the list."""

        def matching(word: str) -> QuerySet[Any]:
            articles = Article.objects.filter(slug__icontains=word).order_by().values("pk")
            revisions = Revision.objects.filter(Q(topic__icontains=word) | Q(title__icontains=word))
            return articles.union(revisions.order_by().values("article_id"))

        return _each_word_matching(queryset, search_term, matching), False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        latest = Revision.objects.filter(article=OuterRef("pk")).order_by("-number")
        return super().get_queryset(request).annotate(latest_topic=Subquery(latest.values("topic")[:1]))

    @admin.display(description="Topic (latest revision)")
    def latest_topic(self, article: Article) -> str:
        return article.latest_topic or "-"

    def get_form(self, request: HttpRequest, obj: Article | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ArticleAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Article | None = None) -> list[str]:
        return ["slug", "medication", "latest_topic"] if obj else ["slug", "medication", "topic", "title", "summary"]

    def get_readonly_fields(self, request: HttpRequest, obj: Article | None = None) -> list[str]:
        return ["slug", "medication", "latest_topic"] if obj else []

    def has_change_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        # Nothing of an article changes once it is created; the change page only shows it.
        return obj is None and super().has_change_permission(request)

    def get_prepopulated_fields(self, request: HttpRequest, obj: Article | None = None) -> dict[str, Any]:
        return {} if obj else {"slug": ["topic"]}

    def get_inlines(self, request: HttpRequest, obj: Article | None) -> list[Any]:
        return self.inlines if obj else []

    def has_delete_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and request.user.has_perm("articles.add_revision")

    def save_model(self, request: HttpRequest, obj: Article, form: forms.ModelForm, change: bool) -> None:
        revision = services.article_create(
            article=obj,
            topic=form.cleaned_data["topic"],
            title=form.cleaned_data["title"],
            summary=form.cleaned_data["summary"],
            actor=request.user,
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
            try:
                revision = services.revision_create_draft(article=article, actor=request.user, based_on=source)
            except services.OpenDraftError as refused:
                self.message_user(request, _open_draft_message(refused), messages.WARNING)
                continue
            self.message_user(request, f"Started draft revision {revision.number} of {article}.", messages.SUCCESS)


# --- Revisions and their content -------------------------------------------------


def _open_draft_message(refused: services.OpenDraftError) -> str:
    """The service's refusal of a second open draft, with a link to the draft that is open."""
    draft = refused.draft
    url = reverse("admin:articles_revision_change", args=[draft.pk])
    return format_html(
        '{}: <a href="{}">revision {} of {}</a> is already open ({}). Edit it, or archive it before {}.',
        refused.not_done,
        url,
        draft.number,
        draft.article.slug,
        draft.get_state_display().lower(),
        refused.doing,
    )


class RowKeyForm(forms.ModelForm):
    """New rows get a generated key unless the author types one; their place comes from the page.

    The key is not pre-filled in the blank form: the admin copies that form for
    every "Add another", and a pre-filled key would be the same in each copy.
    Nobody types a position: it is a hidden field that the page's move buttons
    (and dragging) renumber, and ``PositionFormSet`` assigns 1..n from it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key = self.fields.get("key")
        if key is not None and self.instance._state.adding:
            key.required = False
            key.help_text = "Leave empty for a generated key; keep it unchanged once saved."
            self.initial["key"] = ""
        position = self.fields.get("position")
        if position is not None:
            position.required = False
            position.widget = forms.HiddenInput(attrs={"data-order-position": ""})

    def clean_key(self) -> str:
        return self.cleaned_data.get("key") or new_key()

    def has_changed(self) -> bool:
        # A blank row the page numbered (after a move) is still blank: only its words make it a row.
        if self.instance._state.adding:
            return bool(set(self.changed_data) - {"position"})
        return super().has_changed()


# New rows one save may add to one list of a revision's rows (sections, references...): the page adds them one
# "Add another" at a time; a long article comes in by import.
MAX_NEW_ROWS_PER_SAVE = 50

MOVE_FIELD = "_move"  # a move button's name; its value is "<form prefix>:up" or "<form prefix>:down"


class PositionFormSet(BaseInlineFormSet):
    """The server numbers the rows 1..n, in the order the page sent them.

    The page sends each row's place in a hidden ``position`` field (renumbered by
    the script when rows are moved or dragged); rows without one (new rows,
    added without the script) go at the end, in the order they were added. A
    move button pressed without the script (``MOVE_FIELD``) moves its row one
    place here, and the whole page is saved as with "Save and continue".
    """

    renumbered: list[Any]  # saved rows whose number changed although the author did not touch them
    moved = False  # a move button pressed without the script moved a row

    def _claimed_new_rows(self) -> int:
        """How many new rows the page says it sends (its TOTAL_FORMS beyond the saved rows)."""
        if not self.is_bound or not self.management_form.is_valid():
            return 0
        return self.management_form.cleaned_data[TOTAL_FORM_COUNT] - self.initial_form_count()

    def total_form_count(self) -> int:
        # The page adds rows a few at a time ("Add another"); a page claiming more is refused (``clean``) without a
        # form built, checked and drawn for each of them (Django builds up to 2,000: about 47 s for one request).
        total = super().total_form_count()
        if self._claimed_new_rows() > MAX_NEW_ROWS_PER_SAVE:
            return min(total, self.initial_form_count())
        return total

    def clean(self) -> None:
        super().clean()
        self.renumbered = []
        self.moved = False
        if self._claimed_new_rows() > MAX_NEW_ROWS_PER_SAVE:
            raise ValidationError(
                f"Add at most {MAX_NEW_ROWS_PER_SAVE} new rows at a time: save, then add more.",
                code="too_many_new_rows",
            )
        kept = [
            (form.cleaned_data.get("position") or MAX_POSITION + 1, index, form)
            for index, form in enumerate(self.forms)
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and (form.instance.pk is not None or form.has_changed())
        ]
        rows = [form for _, _, form in sorted(kept, key=lambda entry: entry[:2])]
        self._apply_move(rows)
        if len(rows) > MAX_POSITION:
            raise ValidationError(f"A list holds at most {MAX_POSITION} rows.", code="too_many_rows")
        for place, form in enumerate(rows, start=1):
            if form.instance.pk is not None and not form.has_changed() and form.instance.position != place:
                self.renumbered.append(form)
            form.cleaned_data["position"] = place
            form.instance.position = place

    def _apply_move(self, rows: list[Any]) -> None:
        prefix, _, direction = str(self.data.get(MOVE_FIELD, "")).rpartition(":")
        index = next((i for i, form in enumerate(rows) if form.prefix == prefix), None)
        if index is None or direction not in {"up", "down"}:
            return
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
            self.moved = True

    def has_changed(self) -> bool:
        return self.moved or super().has_changed()

    def save_existing_objects(self, commit: bool = True) -> list[Any]:
        saved = super().save_existing_objects(commit)
        if commit and self.has_changed():
            # Rows the author did not touch but whose number changed (a row above moved or went).
            for form in getattr(self, "renumbered", ()):
                if form not in self.deleted_forms:
                    form.instance.save(update_fields=["position"])
        return saved


class KnownChoicesAutocomplete(AutocompleteSelect):
    """Django's autocomplete drop-down, told the labels of what the rows already hold (``known``, read once
    for the whole list by ``ContentInline.get_formset``): Django's own asks the database once per row."""

    known: dict[str, str] = {}

    def optgroups(self, name: str, value: Any, attr: Any = None) -> Any:
        # A refused value that is no id (a space, a 40-digit number) is shown as nothing chosen: Django's own would
        # look it up in the database and fail (a 500 under the field's "Select a valid choice").
        value = [item for item in value if whole_number(str(item)) is not None]
        selected = [str(item) for item in value if str(item) not in self.choices.field.empty_values]
        if not set(selected) <= self.known.keys():
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for key in selected:
            options.append(self.create_option(name, key, self.known[key], True, len(options)))
        return [(None, options, 0)]


class ContentInline:
    """Rows of a revision: editable only while the revision is; ordered with buttons or by dragging."""

    class Media:
        js = ["js/admin-order.js"]
        css = {"all": ["css/admin-order.css"]}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = "tabular" if isinstance(self, admin.TabularInline) else "stacked"
        self.template = f"admin/articles/edit_inline/{kind}.html"

    form = RowKeyForm
    formset = PositionFormSet
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0

    def _revision(self, obj: Any) -> Revision | None:
        return obj

    def _editable(self, request: HttpRequest, obj: Any) -> bool:
        revision = self._revision(obj)
        return revision is not None and revision.is_editable and request.user.has_perm("articles.change_revision")

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
            # Read once for every row's drop-down (each form's copy of the field would ask again).
            options = [(section.pk, section_field.label_from_instance(section)) for section in section_field.queryset]
            empty = [("", section_field.empty_label)] if section_field.empty_label is not None else []
            section_field.choices = [*empty, *options]
        for name, field in formset.form.base_fields.items():
            widget = getattr(field.widget, "widget", field.widget)
            if isinstance(widget, KnownChoicesAutocomplete) and obj is not None:
                chosen = self.model._default_manager.filter(revision=obj).values(name)
                widget.known = {
                    str(item.pk): field.label_from_instance(item) for item in field.queryset.filter(pk__in=chosen)
                }
        return formset

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in self.get_autocomplete_fields(request):  # type: ignore[attr-defined]
            kwargs.setdefault("widget", KnownChoicesAutocomplete(db_field, self.admin_site))  # type: ignore[attr-defined]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        if self._editable(request, obj):
            return fields
        # Read-only rows are shown in order; their numbers say nothing more.
        return _without(fields, "position")


def _without(fields: Any, name: str) -> list[Any]:
    """``fields`` (names, or tuples of names on one line) without ``name``."""
    kept: list[Any] = []
    for field in fields:
        if isinstance(field, (list, tuple)):
            line = tuple(part for part in field if part != name)
            if line:
                kept.append(line)
        elif field != name:
            kept.append(field)
    return kept


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


class DraftVersionForm(forms.ModelForm):
    """Carries the draft version the editor started from, so a stale save is refused."""

    lock_version_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lock_version_seen"].initial = self.draft.lock_version if self.draft else 0

    @property
    def draft(self) -> Revision | None:
        return self.instance if isinstance(self.instance, Revision) else getattr(self.instance, "revision", None)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.draft is not None and self.draft.pk:
            seen = cleaned.get("lock_version_seen")
            try:
                services.check_draft_version(
                    revision=self.draft, expected_lock_version=seen if seen is not None else -1
                )
            except ValidationError as error:
                raise ValidationError(error.messages, code="stale") from None
        return cleaned


class RevisionForm(DraftVersionForm):
    class Meta:
        model = Revision
        fields = ["title", "topic", "summary", "change_summary"]


class DraftSavingAdmin(admin.ModelAdmin):
    """Saves the page's fields and rows through ``services.revision_save_draft`` (locked, versioned, audited)."""

    def _draft(self, obj: Any) -> Revision:
        return obj

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        """Saved together with the rows in ``save_related``, inside the service's checks."""

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list[Any], change: bool) -> None:
        fields = [name for name in form.changed_data if name in form._meta.fields]

        def apply() -> None:
            if fields:
                form.instance.save(update_fields=fields)
            super(DraftSavingAdmin, self).save_related(request, form, formsets, change)

        changed = fields + [formset.prefix for formset in formsets if formset.has_changed()]
        services.revision_save_draft(
            revision=self._draft(form.instance),
            actor=request.user,
            expected_lock_version=form.cleaned_data["lock_version_seen"],
            apply=apply,
            changed=changed,
        )
        for formset in formsets:
            if not hasattr(formset, "new_objects"):  # nothing changed, nothing saved: what the change message reads
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        moved = request.POST.get(MOVE_FIELD, "")
        if moved:
            # A row's "Move up"/"Move down" without the script: saved; back to the same place on the page.
            self.message_user(request, "Moved, and your changes are saved.", messages.SUCCESS)
            group = moved.rpartition(":")[0].rpartition("-")[0]
            anchor = f"#{group}-group" if re.fullmatch(r"[a-z_]{1,50}", group) else ""
            return HttpResponseRedirect(f"{request.path}{anchor}")
        return super().response_change(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Submitted content is frozen: view only. A save sent from a page opened while it was a draft (only such a
        # page has the version field) is let through to its form, which refuses it with the reason and shows what was
        # typed (``services.check_draft_version``), rather than a refusal that reads as a missing role; the service
        # refuses it again under lock.
        opened_as_draft = request.method == "POST" and "lock_version_seen" in request.POST
        if obj is not None and not self._draft(obj).is_editable and not opened_as_draft:
            return False
        return super().has_change_permission(request, obj)


class StateFilter(admin.SimpleListFilter):
    title = "worklist"
    parameter_name = "worklist"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("mine", "My drafts"), ("live", "Live"), ("open", "Not yet published")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Revision]) -> QuerySet[Revision]:
        if self.value() == "mine":
            return queryset.filter(created_by=request.user, state__in=services.EDITABLE_STATES)
        if self.value() == "live":
            return queryset.published()
        if self.value() == "open":
            return queryset.filter(
                state__in=[
                    *services.EDITABLE_STATES,
                    RevisionState.IN_REVIEW,
                    RevisionState.APPROVED,
                    RevisionState.SCHEDULED,
                ]
            )
        return queryset


class WorklistFilter(admin.SimpleListFilter):
    """The dashboard's worklists (``articles.dashboard``): the list shows exactly the rows the count counted."""

    title = "my worklist"
    parameter_name = "dashboard"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, worklist.label) for key, worklist in REVISION_WORKLISTS.items() if worklist.may(request.user)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Revision]) -> QuerySet[Revision]:
        worklist = REVISION_WORKLISTS.get(self.value() or "")
        if worklist is None or not worklist.may(request.user):
            return queryset
        return worklist.revisions(queryset, request.user)


def _each_word_matching(queryset: QuerySet[Any], search_term: str, matching: Callable[[str], QuerySet[Any]]) -> Any:
    """The rows of ``queryset`` whose ids ``matching`` finds for every word of the search (Django's rule: each word
    somewhere), each word's ids read by index rather than by joining the list to every related row."""
    for word in _search_words(search_term):
        queryset = queryset.filter(AmongIds(F("pk"), matching(word)))
    return queryset


def _search_words(search_term: str) -> list[str]:
    """The words of a list's search, as Django's admin splits them ("quoted words" stay together)."""
    quoted = ('"', "'")
    return [
        unescape_string_literal(word) if word.startswith(quoted) and word[0] == word[-1] else word
        for word in smart_split(search_term)
    ]


# Offered after the step that moves a revision on, in this order (``RevisionAdmin._workflow_context``).
LAST_ACTIONS = ["unschedule", "archive", "withdraw", "create_draft"]


@admin.register(Revision)
class RevisionAdmin(BoundedListMixin, DraftSavingAdmin):
    form = RevisionForm
    change_form_template = "admin/articles/revision/change_form.html"
    list_display = ["__str__", "title", "state", "created_by", "updated_at", "published_at"]
    list_filter = [WorklistFilter, StateFilter, "state", "article__medication"]
    search_fields = ["title", "article__slug"]
    list_select_related = ["article", "created_by"]
    # By article, newest first: asked here, since the model's default order joins nothing. Nothing else: any other
    # column came before the article's slug, and the list read and sorted every revision of the library to find its
    # first page (0.2 s at 100,000). The filters, the worklists and the search narrow it.
    ordering = ["article__slug", "-number"]
    sortable_by: list[str] = []
    readonly_fields = [
        "article",
        "number",
        "state",
        "based_on",
        "created_by",
        "created_at",
        "updated_at",
        "published_at",
        "publish_at",
        "content_hash",
        "lock_version",
    ]
    fieldsets = [
        (None, {"fields": ["title", "topic", "summary", "change_summary", "lock_version_seen"]}),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": [
                    ("article", "number", "state"),
                    ("created_by", "created_at", "updated_at"),
                    ("based_on", "published_at", "publish_at"),
                    ("content_hash", "lock_version"),
                ],
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
        CommentInline,
        AuditInline,
    ]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Revision], search_term: str) -> Any:
        """Each word in the title or the article's slug, as Django's search, by index (as ``ArticleAdmin``'s)."""

        def matching(word: str) -> QuerySet[Any]:
            titled = Revision.objects.filter(title__icontains=word).order_by().values("pk")
            of_articles = Revision.objects.filter(article__in=Article.objects.filter(slug__icontains=word))
            return titled.union(of_articles.order_by().values("pk"))

        return _each_word_matching(queryset, search_term, matching), False

    def get_view_on_site_url(self, obj: Revision | None = None) -> str | None:
        """The live page for the live revision; the staff preview for any other (a draft is not on the site)."""
        if obj is None:
            return None
        if Revision.objects.published().filter(pk=obj.pk).exists():
            return obj.get_absolute_url()
        return reverse("admin:articles_revision_preview", args=[obj.pk])

    def get_inlines(self, request: HttpRequest, obj: Revision | None) -> list[Any]:
        # Another kind of content shows its own rows (``ContentKind.admin_inlines``).
        content = kind_for(obj.article.kind).admin_inlines if obj is not None else None
        if content is not None:
            return [*content, CommentInline, AuditInline]
        return self.inlines

    def get_fieldsets(self, request: HttpRequest, obj: Revision | None = None) -> list[Any]:
        if obj is not None and not self.has_change_permission(request, obj):
            return [(None, {"fields": ["title", "topic", "summary", "change_summary"]}), self.fieldsets[1]]
        return self.fieldsets

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Drafts start from an article: "Add article", or a revision's "Start a new draft".
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Revision | None = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/transition/<str:name>/", view(self.transition_view), name="articles_revision_transition"),
            path("<int:pk>/comment/", view(self.comment_view), name="articles_revision_comment"),
            path("<int:pk>/diff/", view(self.diff_view), name="articles_revision_diff"),
            path("<int:pk>/preview/", view(self.preview_view), name="articles_revision_preview"),
            *super().get_urls(),
        ]

    # The workflow panel on the change page

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        revision = None
        pk = whole_number(str(object_id))
        if pk is not None:  # anything else is Django's "does not exist", never a 500
            revision = Revision.objects.with_content().with_review().filter(pk=pk).first()
        if revision is not None and self.has_view_permission(request, revision):
            extra_context = {**(extra_context or {}), **self._workflow_context(request, revision)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _workflow_context(self, request: HttpRequest, revision: Revision) -> dict[str, Any]:
        report = check_revision(revision)
        # The service leaves out a step that would open a second draft; the page links to the open one instead.
        open_draft = revision.article.revisions.editable().first()
        actions = []
        sent = getattr(request, "workflow_form_sent", None)  # a refused step's form, as sent (``_shown_again``)
        for name in services.available_transitions(revision=revision, actor=request.user, open_draft=open_draft):
            step = services.TRANSITIONS[name]
            if sent and sent[0] == name:
                form = sent[1].shown_again(revision)
            else:
                form = step.form.for_revision(revision, checks=report, prefix=name)
            url = reverse("admin:articles_revision_transition", args=[revision.pk, name])
            actions.append({"name": name, "label": step.label, "form": form, "url": url})
        live = Revision.objects.published().filter(article_id=revision.article_id).first()
        noted = revision_notes.annotate(Revision.objects.filter(pk=revision.pk)).get()
        review_summary = kind_for(revision.article.kind).review_summary
        can_comment = request.user.has_perm("articles.add_reviewcomment")
        # The step that moves this revision on comes first; setting it aside, then copying it, last.
        actions.sort(key=lambda action: LAST_ACTIONS.index(action["name"]) if action["name"] in LAST_ACTIONS else -1)
        requested = None
        if revision.state == RevisionState.CHANGES_REQUESTED:
            requested = AuditEntry.objects.change_requests().filter(revision=revision).last()
        against = self._compare_default(revision)
        compare_label = ""
        if against is not None:
            compare_label = "Compare with live" if live is not None and against.pk == live.pk else ""
            compare_label = compare_label or f"Compare with revision {against.number}"
        return {
            "revision": revision,
            "workflow_actions": actions,
            "requested_changes": requested,
            "open_draft": open_draft if open_draft is not None and open_draft.pk != revision.pk else None,
            "compare_label": compare_label,
            "checks": report,
            "live_revision": live,
            "review": revision.current_review,
            "kind_review_summary": review_summary(revision) if review_summary else None,
            "revision_notes": revision_notes.describe(noted),
            "comment_form": workflow_forms.CommentForm(revision=revision) if can_comment else None,
            "diff_url": reverse("admin:articles_revision_diff", args=[revision.pk]),
            "preview_url": reverse("admin:articles_revision_preview", args=[revision.pk]),
        }

    def transition_view(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        revision = get_object_or_404(Revision, pk=pk)
        back = reverse("admin:articles_revision_change", args=[pk])
        step = services.TRANSITIONS.get(name)
        if request.method != "POST" or step is None:
            return HttpResponseRedirect(back)
        form = step.form.for_revision(revision, request.POST, prefix=name)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
                self.message_user(request, f"{step.label}: {label}: {' '.join(errors)}", messages.ERROR)
            return self._shown_again(request, revision, name, form)
        try:
            result = step.service(revision=revision, actor=request.user, **form.cleaned_data)
        except services.OpenDraftError as refused:  # a page shown before that draft was opened
            self.message_user(request, _open_draft_message(refused), messages.WARNING)
            return HttpResponseRedirect(back)
        except (ValidationError, PermissionDenied) as error:
            text = " ".join(getattr(error, "messages", None) or [str(error)])
            self.message_user(request, f"{step.label}: not done. {text}", messages.ERROR)
            return self._shown_again(request, revision, name, form)
        if isinstance(result, Revision) and result.pk != revision.pk:
            # A new draft, or the step was done to the revision readers see (one that went live at its time).
            done = (
                f"Started draft revision {result.number}."
                if step.opens_draft
                else f"{step.label}: done to revision {result.number}, live since its scheduled time. "
                f"It is now {result.get_state_display().lower()}."
            )
            self.message_user(request, done, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[result.pk]))
        self.message_user(
            request,
            f"{step.label}: done. The revision is now {Revision.objects.get(pk=pk).get_state_display().lower()}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(back)

    def _shown_again(self, request: HttpRequest, revision: Revision, name: str, form: forms.Form) -> HttpResponse:
        """The revision's page with the refused step's form as it was sent, under the refusal: a redirect showed it
        empty, and what the reviewer typed (a comment, a date) was lost. Nothing is kept of it anywhere."""
        shown = copy.copy(request)  # the page as its GET shows it, with this one form as sent
        shown.method = "GET"
        shown.workflow_form_sent = (name, form)  # type: ignore[attr-defined]
        return self.change_view(
            shown, str(revision.pk), form_url=reverse("admin:articles_revision_change", args=[revision.pk])
        )

    def comment_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        revision = get_object_or_404(Revision, pk=pk)
        back = reverse("admin:articles_revision_change", args=[pk])
        if request.method == "POST":
            form = workflow_forms.CommentForm(request.POST, revision=revision)
            if form.is_valid():
                try:
                    services.revision_comment(
                        revision=revision,
                        actor=request.user,
                        body=form.cleaned_data["body"],
                        section_key=form.cleaned_data["section_key"],
                    )
                except (ValidationError, PermissionDenied) as error:
                    text = " ".join(getattr(error, "messages", None) or [str(error)])
                    self.message_user(request, f"Comment not added. {text}", messages.ERROR)
                else:
                    self.message_user(request, "Comment added.", messages.SUCCESS)
            else:
                problems = [error for field_errors in form.errors.values() for error in field_errors]
                errors = " ".join(problems) if form["body"].value() else "Write a comment."
                self.message_user(request, f"Comment not added. {errors}", messages.ERROR)
        return HttpResponseRedirect(back)

    # Diff and preview

    def diff_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        revision = get_object_or_404(Revision.objects.select_related("article"), pk=pk)
        if not self.has_view_permission(request, revision):
            raise PermissionDenied
        others = list(revision.article.revisions.exclude(pk=pk).order_by("-number"))
        against_id = whole_number(request.GET.get("against"))
        against = None
        if against_id is not None:
            against = next((other for other in others if other.pk == against_id), None)
        if against is None:
            against = self._compare_default(revision)
        base = Revision.objects.with_content().get(pk=against.pk) if against else None
        mine = Revision.objects.with_content().get(pk=pk)
        empty = {"title": "", "topic": "", "summary": "", "change_summary": ""}
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes in revision {revision.number}",
            "opts": self.model._meta,
            "revision": revision,
            "against": against,
            "others": others,
            "diff": diff_contents(
                revision_content(base) if base else empty,
                revision_content(mine),
                extra_lists=kind_for(revision.article.kind).diff_lists,
            ),
        }
        return TemplateResponse(request, "admin/articles/revision/diff.html", context)

    def _compare_default(self, revision: Revision) -> Revision | None:
        """What a revision is compared with unless another is chosen: the live one, else its source, else the newest."""
        others = revision.article.revisions.exclude(pk=revision.pk)
        return others.published().first() or revision.based_on or others.order_by("-number").first()

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        revision = get_object_or_404(Revision.objects.with_content().with_review(), pk=pk)
        if not self.has_view_permission(request, revision):
            raise PermissionDenied
        context = {
            "page": build_article_page(revision),
            "canonical_url": "",
            "json_ld": json_ld_script(medical_web_page(revision)),
            "review_panel": review_panel_html(revision, preview=True),
            "preview": True,
            "today": timezone.localdate(),
            "admin_url": reverse("admin:articles_revision_change", args=[pk]),
        }
        response = TemplateResponse(request, "articles/article_preview.html", context)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "private, no-store"
        return response


# --- Worklists -------------------------------------------------------------------


class WorklistAdmin(BoundedListMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """A read-only list of revisions; each links to the revision's own page."""

    list_display = ["revision_link", "title", "state", "created_by", "updated_at"]
    list_select_related = ["article", "created_by"]
    actions = None
    permission = "articles.view_revision"

    @admin.display(description="Revision")
    def revision_link(self, revision: Revision) -> str:
        url = reverse("admin:articles_revision_change", args=[revision.pk])
        return format_html('<a href="{}">{} revision {}</a>', url, revision.article.slug, revision.number)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(self.permission)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> None:
        return None


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(WorklistAdmin):
    """Revisions in review that the current user did not write or edit."""

    list_display = ["revision_link", "title", "created_by", "updated_at", "diff_link"]
    permission = "articles.approve_revision"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Revision]:
        # The dashboard's "Awaiting my review" counts these, by the same rule (``articles.dashboard``).
        worklist = REVISION_WORKLISTS["awaiting-review"]
        return worklist.revisions(super().get_queryset(request), request.user).order_by("updated_at")

    @admin.display(description="Changes")
    def diff_link(self, revision: Revision) -> str:
        return format_html(
            '<a href="{}">See what changed</a>', reverse("admin:articles_revision_diff", args=[revision.pk])
        )


@admin.register(OverdueReview)
class OverdueReviewAdmin(WorklistAdmin):
    list_display = ["revision_link", "title", "next_review_due", "published_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Revision]:
        return super().get_queryset(request).overdue_for_review().order_by("next_review_due", "pk")

    @admin.display(description="Next review was due", ordering="next_review_due")
    def next_review_due(self, revision: Revision) -> Any:
        return revision.next_review_due or "never reviewed"


@admin.register(ScheduledPublication)
class ScheduledPublicationAdmin(WorklistAdmin):
    list_display = ["revision_link", "title", "publish_at", "created_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Revision]:
        return super().get_queryset(request).filter(state=RevisionState.SCHEDULED).order_by("publish_at", "pk")


# --- Comparison tables: columns, rows and a grid of cells ---------------------------


class ColumnInline(ContentInline, admin.TabularInline):
    model = ComparisonColumn
    fields = ["heading", "position", "key"]

    def _revision(self, obj: Any) -> Revision | None:
        return obj.revision if obj else None


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

    def _revision(self, obj: Any) -> Revision | None:
        return obj.revision if obj else None

    def _columns(self, table: ComparisonTable | None) -> list[ComparisonColumn]:
        return list(table.columns.all()) if table else []

    def get_fields(self, request: HttpRequest, obj: ComparisonTable | None = None) -> list[str]:
        if not self._editable(request, obj):
            return ["feature", "cells_text", "key"]
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
            f"cell_{column.pk}": TextFormField(
                label=column.heading,
                required=False,
                max_length=MAX_CELL_CHARS,
                widget=forms.Textarea(attrs={"rows": 2, "cols": 30}),
            )
            for column in columns
        }
        kwargs["form"] = type("TableRowForm", (RowForm,), {**cell_fields, "columns": columns})
        return super().get_formset(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: ComparisonTable | None = None) -> list[str]:
        if self._editable(request, obj):
            return []
        return ["feature", "cells_text", "key"]


class TableForm(DraftVersionForm):
    class Meta:
        model = ComparisonTable
        fields: list[str] = []


@admin.register(ComparisonTable)
class ComparisonTableAdmin(DraftSavingAdmin):
    """Reached from a revision's table list; columns first, then one row per feature."""

    form = TableForm
    fields = ["revision", "caption", "feature_heading", "lock_version_seen"]
    readonly_fields = ["revision", "caption", "feature_heading"]
    inlines = [ColumnInline, RowInline]

    def _draft(self, obj: Any) -> Revision:
        return obj.revision

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and not self.has_change_permission(request, obj):
            return ["revision", "caption", "feature_heading"]
        return self.fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ComparisonTable]:
        return super().get_queryset(request).select_related("revision__article")


# --- Each member of staff's own notification settings ----------------------------------


class NotificationSettingsForm(forms.Form):
    email_notifications = forms.BooleanField(
        required=False,
        label=NotificationSettings._meta.get_field("email_notifications").verbose_name.capitalize(),
        help_text=NotificationSettings._meta.get_field("email_notifications").help_text,
    )


def notification_settings_view(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own choice about workflow emails (``admin.site.admin_view`` signs them in)."""
    current = NotificationSettings.objects.filter(user=request.user).first()
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            services.notification_settings_update(
                user=request.user, email_notifications=form.cleaned_data["email_notifications"]
            )
            state = "on" if form.cleaned_data["email_notifications"] else "off"
            messages.success(request, f"Saved: workflow emails are {state}.")
            return HttpResponseRedirect(reverse("admin-notifications"))
    else:
        form = NotificationSettingsForm(initial={"email_notifications": current is None or current.email_notifications})
    context = {
        **admin.site.each_context(request),
        "title": "Email notifications",
        "form": form,
        "email": request.user.email,
    }
    return TemplateResponse(request, "admin/notification_settings.html", context)
