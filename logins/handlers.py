"""Where failed log-ins are counted: django-axes' database handler, with a narrower reset."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.http import HttpRequest


class LoginAttemptHandler(AxesDatabaseHandler):
    """Counts failures in the database all app servers share.

    On a successful log-in django-axes forgets every failure for that user name *and*
    every failure from that address. With lockouts per user name and per address
    separately, anyone with an account could then wipe the count of guesses at someone
    else's account by logging in from the guessing address. Only the person's own
    failures from the address they have just proved themselves at are forgotten.
    """

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """Forget the failures of this user name from this address, and no others."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return count
