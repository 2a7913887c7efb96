"""What committed changes still owe the shared cache and the proxy (``PendingInvalidation``), for administrators.

Shown, never edited: a row is deleted only once the cache and every proxy took it
(``contentsite.invalidation``; ``manage.py retry_invalidations`` runs from cron). Deleting
one here would lose a drop or purge readers are owed, so nobody can.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property
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
