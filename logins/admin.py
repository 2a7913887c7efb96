"""Lockouts in the admin: who is locked out and until when, for those allowed to see.

django-axes registers its own admin for failed log-ins; its status column looks at one
row at a time, so a user name guessed at from many addresses (one failure per row) never
shows as locked. This replaces it with a column that applies the lockout rule itself.
Who may see and release lockouts is Django's model permissions: superusers, and any group
given "Can view access attempt" and "Can delete access attempt". Releasing a lockout is
deleting its rows.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format

from .lockouts import lockouts_for


class LockoutAdmin(AccessAttemptAdmin):
    list_display = [
        "attempt_time",
        "username",
        "ip_address",
        "user_agent",
        "path_info",
        "failures_since_start",
        "lockout",
    ]
    list_filter = ["attempt_time", "path_info"]
    list_per_page = 50

    # django-axes' "Clean up expired attempts" needs the time of a log-in attempt, which an admin request
    # has not (a 500); axes clears expired rows at every log-in anyway. Releasing is "delete selected".
    actions: list[str] = []

    @admin.display(description="Lockout")
    def lockout(self, obj: AccessAttempt) -> str:
        """Whether this row's user name or address is locked out now, and until when at the latest."""
        lockouts = lockouts_for(username=obj.username, ip_address=obj.ip_address, user_agent=obj.user_agent)
        if not lockouts:
            return "—"
        until = timezone.localtime(max(lockout.until for lockout in lockouts))
        by = " and ".join(dict.fromkeys(lockout.label for lockout in lockouts))
        return f"Locked out until {date_format(until, 'j M Y, H:i T')} ({by})"


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, LockoutAdmin)
