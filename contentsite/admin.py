"""What committed changes still owe the shared cache and the proxy (``PendingInvalidation``), for administrators.

Shown, never edited: a row is deleted only once the cache and every proxy took it
(``contentsite.invalidation``; ``manage.py retry_invalidations`` runs from cron). Deleting
one here would lose a drop or purge readers are owed, so nobody can.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
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


class BoundedListMixin:
    """For the list of a table that grows with the library: neither its count nor its pages read the whole table."""

    paginator = BoundedCountPaginator
    show_full_result_count = False  # "N results (M total)" counted the whole table again


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
