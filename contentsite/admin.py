"""What committed changes still owe the shared cache and the proxy (``PendingInvalidation``), for administrators.

Shown, never edited: a row is deleted only once the cache and every proxy took it
(``contentsite.invalidation``; ``manage.py retry_invalidations`` runs from cron). Deleting
one here would lose a drop or purge readers are owed, so nobody can.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
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
