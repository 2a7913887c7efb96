"""The editors' queue of reader feedback: unhandled first, read-only, "mark handled" audited.

Nobody adds, edits or deletes feedback here: the rows are what readers sent. The
one change, marking rows handled, goes through ``services.feedback_mark_handled``
(permission ``feedback.handle_feedback``), which writes the audit entries.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from contentsite.admin import BoundedListMixin, ReadOnlyAdminMixin

from . import services
from .models import Feedback, FeedbackAuditEntry

UNHANDLED, HANDLED, ALL = "unhandled", "handled", "all"


class StatusFilter(admin.SimpleListFilter):
    """Unhandled feedback unless the editor asks for handled or all: the queue is what needs doing."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(UNHANDLED, "To handle"), (HANDLED, "Handled"), (ALL, "All")]

    def value(self) -> str:
        return super().value() or UNHANDLED

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Feedback]) -> QuerySet[Feedback]:
        if self.value() == HANDLED:
            return queryset.filter(handled=True)
        if self.value() == ALL:
            return queryset
        return queryset.filter(handled=False)


class FeedbackAuditInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FeedbackAuditEntry
    fields = ["created_at", "action", "by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "audit log"

    @admin.display(description="Actor")
    def by(self, entry: FeedbackAuditEntry) -> str:
        return entry.actor_label

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("feedback.view_feedback")


@admin.register(Feedback)
class FeedbackAdmin(BoundedListMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_on", "kind", "article", "revision_link", "answer", "reason", "text", "handled"]
    list_filter = [StatusFilter, "helpful", "reason", "revision__article__kind"]
    list_select_related = ["revision__article"]
    # Sorted only by the day received, which an index orders (``feedback_queue``, ``received_on``): any other column
    # joined every answer readers ever sent to its revision and article and sorted them all (0.2-0.6 s at 200,000).
    sortable_by = ["received_on"]
    fields = ["received_on", "revision_link", "helpful", "reason", "text", "handled"]
    readonly_fields = fields
    inlines = [FeedbackAuditInline]
    actions = ["mark_handled"]
    list_per_page = 50

    @admin.display(description="Kind", ordering="revision__article__kind")
    def kind(self, feedback: Feedback) -> str:
        return feedback.revision.article.get_kind_display()

    @admin.display(description="Article", ordering="revision__article__slug")
    def article(self, feedback: Feedback) -> str:
        return feedback.revision.article.slug

    @admin.display(description="Revision", ordering="revision__number")
    def revision_link(self, feedback: Feedback) -> str:
        url = reverse("admin:articles_revision_change", args=[feedback.revision_id])
        return format_html('<a href="{}">Revision {}</a>', url, feedback.revision.number)

    @admin.display(description="Helpful", boolean=True, ordering="helpful")
    def answer(self, feedback: Feedback) -> bool:
        return feedback.helpful

    def get_queryset(self, request: HttpRequest) -> QuerySet[Feedback]:
        return super().get_queryset(request).select_related("revision__article")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The revision pages link here with their revision's feedback.
        return lookup == "revision__id__exact" or super().lookup_allowed(lookup, value, request)

    def has_handle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("feedback.handle_feedback")

    @admin.action(description="Mark selected feedback handled", permissions=["handle"])
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[Feedback]) -> None:
        changed = services.feedback_mark_handled(feedback_ids=queryset.values_list("pk", flat=True), actor=request.user)
        self.message_user(request, f"Marked {changed} feedback handled.", messages.SUCCESS)
