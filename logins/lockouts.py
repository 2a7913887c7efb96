"""Who is locked out, until when, and the page that says so.

django-axes decides whether a log-in is refused; this module only describes a lockout
(to the person refused, and to the administrators who may release it), by the rule
axes applies: for each lockout parameter, the failures recorded within the cool-off
that match it are added up, and reaching the failure limit locks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_client_parameters, get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

LOCKED_BY = {"username": "user name", "ip_address": "address", "user_agent": "browser"}


@dataclass(frozen=True)
class Lockout:
    """One lockout: the values it is for, the failures counted, and when it ends at the latest."""

    by: dict[str, str | None]
    failures: int
    until: datetime

    @property
    def label(self) -> str:
        """What is locked, in words: "user name", "address" or "user name and address"."""
        return " and ".join(LOCKED_BY[name] for name in self.by)


def lockouts_for(*, username: str | None, ip_address: str | None, user_agent: str = "") -> list[Lockout]:
    """The lockouts that refuse a log-in with this user name, from this address, now.

    ``until`` is when the last failure counted leaves the cool-off: by then the lockout
    has certainly ended (it may end earlier if older failures leave it first).
    """
    cool_off = get_cool_off()
    threshold = timezone.now() - cool_off
    limit = settings.AXES_FAILURE_LIMIT
    found = []
    for parameters in get_client_parameters(username, ip_address, user_agent, None):
        counted = AccessAttempt.objects.filter(attempt_time__gte=threshold, **parameters).aggregate(
            failures=Sum("failures_since_start"), last=Max("attempt_time")
        )
        if (counted["failures"] or 0) >= limit:
            found.append(Lockout(by=parameters, failures=counted["failures"], until=counted["last"] + cool_off))
    return found


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The page a refused log-in gets (``AXES_LOCKOUT_CALLABLE``): 429, in the admin's look.

    It says when to try again and whom to ask, and nothing about the account: the user
    name is not repeated, and a name that does not exist is locked out just the same.
    """
    now = timezone.now()
    lockouts = lockouts_for(
        username=get_client_username(request, credentials),
        ip_address=request.axes_ip_address,
        user_agent=request.axes_user_agent,
    )
    until = max((lockout.until for lockout in lockouts), default=now + get_cool_off())
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed log-in attempts",
        "failure_limit": get_failure_limit(request, credentials),
        "cool_off_minutes": round(get_cool_off().total_seconds() / 60),
        "until": until,
        "contact": settings.LOGIN_LOCKOUT_CONTACT,
    }
    response = TemplateResponse(request, "admin/login_lockout.html", context, status=429)
    response["Retry-After"] = str(max(1, math.ceil((until - now).total_seconds())))
    add_never_cache_headers(response)
    return response.render()
