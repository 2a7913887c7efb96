"""What committed changes still owe the shared cache and the proxy (``PendingInvalidation``), for administrators.

Shown, never edited: a row is deleted only once the cache and every proxy took it
(``contentsite.invalidation``; ``manage.py retry_invalidations`` runs from cron). Deleting
one here would lose a drop or purge readers are owed, so nobody can.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.paginator import Paginator
from django.db.models import PROTECT, RESTRICT
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.timesince import timesince

from contentsite.models import PendingInvalidation


class ReadOnlyAdminMixin:
    """For an admin page or inline that shows and never edits (records, counts, what is owed): nobody adds, changes
    or deletes there, whatever their permissions. Who may view it is the view permission's to say."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BoundedCountPaginator(Paginator):
    """Counts a list's rows up to ``limit`` and no further: a count of the whole library reads every row of it.

    A list with more rows says "more than {limit}" (``templates/admin/pagination.html``) and pages through the first
    ``limit`` of them: a page further down would read every row before it too. The search and the filters narrow it.
    """

    limit = 2_000

    @cached_property
    def counted(self) -> int:
        rows = self.object_list
        if hasattr(rows, "values"):  # a queryset: the count needs no order and no columns
            rows = rows.order_by().values("pk")
        return rows[: self.limit + 1].count() if hasattr(rows, "count") else len(rows[: self.limit + 1])

    @cached_property
    def capped(self) -> bool:
        return self.counted > self.limit

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.limit)


class SortableOnlyChangeList(ChangeList):
    """Sorts only by the columns the list offers (``sortable_by``): Django's own sorts by any column named in ``?o=``,
    so an order left off for its cost still came back from a typed or bookmarked address."""

    def get_ordering_field(self, field_name: Any) -> Any:
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None  # ignored, as Django ignores a column it cannot sort by
        return super().get_ordering_field(field_name)


class BoundedListMixin:
    """For the list of a table that grows with the library: neither its count nor its pages read the whole table,
    and it sorts only by what it offers (``sortable_by``: what an index serves)."""

    paginator = BoundedCountPaginator
    show_full_result_count = False  # "N results (M total)" counted the whole table again

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return SortableOnlyChangeList

    def response_action(self, request: HttpRequest, queryset: Any) -> Any:
        """An action "across all pages" runs only on a list counted whole: the page offers it on no other
        (``templates/admin/actions.html``), and a request asking for it all the same (a page left open while the
        library grew, a form sent again) ran on every row of the table (9,883 new drafts before it was stopped)."""
        # Read as Django's action form reads it (``ActionForm.select_across``, a BooleanField): one rule for "all".
        across = forms.BooleanField(required=False).to_python(request.POST.get("select_across"))
        paginator = self.get_paginator(request, queryset, 1)  # type: ignore[attr-defined]
        if across and getattr(paginator, "capped", False):
            limit = paginator.limit
            plural = self.model._meta.verbose_name_plural  # type: ignore[attr-defined]
            self.message_user(  # type: ignore[attr-defined]
                request,
                f"Nothing done: there are more than {limit} {plural}, too many to act on at once. "
                "Search or filter to narrow the list, or tick the rows on a page.",
                messages.WARNING,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)  # type: ignore[misc]


class BoundedDeletionMixin:
    """For a row much of the library may refer to (a medicine, a symptom, a member of staff): its "Delete" page (and
    "Delete selected") asks first, by index, for a few of the rows that protect it, and if there are any names them
    and says there are more: Django's own collects and names every related row before it says the row cannot go
    (100,000 symptom entries of a common symptom, 4.6 s; a reviewer's account, 13 minutes). Only a row that nothing
    protects is collected Django's way, to list what its deletion would take with it."""

    protected_shown = 20  # of each kind of row that protects it

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        protected = self._protecting(list(objs))
        if protected:
            return [], {}, set(), protected  # Django's page then says what stops it, and deletes nothing
        return super().get_deleted_objects(objs, request)  # type: ignore[misc]

    def _protecting(self, objs: list[Any]) -> list[str]:
        found: list[str] = []
        # Every foreign key to the model, those named "+" included (the relations Django's deletion looks at).
        for relation in self.model._meta.get_fields(include_hidden=True):  # type: ignore[attr-defined]
            if not (relation.auto_created and not relation.concrete and (relation.one_to_one or relation.one_to_many)):
                continue
            if relation.on_delete not in (PROTECT, RESTRICT):
                continue
            model = relation.related_model
            # Unordered: the rows the foreign key's index finds first (an order would walk another index).
            rows = list(
                model._base_manager.filter(**{f"{relation.field.name}__in": objs}).order_by()[
                    : self.protected_shown + 1
                ]
            )
            found += [
                format_html("{}: {}", capfirst(model._meta.verbose_name), row) for row in rows[: self.protected_shown]
            ]
            if len(rows) > self.protected_shown:
                found.append(
                    format_html("and more {} (more than {})", model._meta.verbose_name_plural, self.protected_shown)
                )
        return found


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(BoundedDeletionMixin, UserAdmin):
    """Django's accounts admin; an account that took a workflow step is protected by its audit entries and reviews
    (deactivate it instead), and its delete page says so at once."""


@admin.register(PendingInvalidation)
class PendingInvalidationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "waiting", "cache_key_list", "proxy_key_list"]
    fields = ["created_at", "waiting", "cache_key_list", "proxy_key_list"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]  # the longest waiting first
    date_hierarchy = "created_at"
    actions = None

    @admin.display(description="Waiting for")
    def waiting(self, row: PendingInvalidation) -> str:
        return timesince(row.created_at, timezone.now())

    @admin.display(description="Cache keys to drop")
    def cache_key_list(self, row: PendingInvalidation) -> str:
        return ", ".join(row.cache_keys)

    @admin.display(description="Proxy keys to purge")
    def proxy_key_list(self, row: PendingInvalidation) -> str:
        return ", ".join(row.proxy_keys)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # What to do about a row, where an operator looks; the log has why (``contentsite.invalidation``).
        subtitle = "Sent again every minute (manage.py retry_invalidations) until the cache and proxies take them"
        return super().changelist_view(request, {"subtitle": subtitle, **(extra_context or {})})
