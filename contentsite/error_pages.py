"""The site's own pages for a refusal: ``handler403`` (``PermissionDenied``, public and admin pages alike),
``CSRF_FAILURE_VIEW`` (a form sent without a valid security token) and the page of ``handler400`` (a request
that could not be read).

Both say in plain words what happened and offer a way on, instead of Django's "403 Forbidden" text.
Neither is ever stored by a cache: what one person may not open says nothing about the next.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from triage import notices

from . import middleware
from .middleware import is_api_request


def _way_on(request: HttpRequest, *, next_path: str) -> dict[str, Any]:
    """Ways out of a refusal: log in (and come back to ``next_path``), or, signed in, log out to change
    account (the admin's log-in page sends signed-in staff straight home); the admin home for staff."""
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    login_url = reverse("admin:login")
    return {
        "signed_in": signed_in,
        "login_url": f"{login_url}?{urlencode({'next': next_path}, safe='/')}" if next_path else login_url,
        "admin_url": reverse("admin:index") if signed_in and user.is_active and user.is_staff else "",
    }


def _refusal(request: HttpRequest, template_name: str, context: dict[str, Any], status: int = 403) -> HttpResponse:
    response = render(request, template_name, context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``: this person may not open this page; the reason given by the code is not shown."""
    return _refusal(request, "403.html", _way_on(request, next_path=request.get_full_path()))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the form came without a valid token (an old page, or the cookie blocked).

    A reader's form (a symptom check's answer, feedback) is answered with the numbers to call, and no way to the
    staff log-in: the answer that could not be sent may have been a warning sign. Staff get the log-in.
    """
    if not request.path.startswith(reverse("admin:index")):
        return _refusal(request, "403_csrf.html", {"reader": True, **notices.context()})
    # Not back to this address: it answered a form, and may not be a page at all.
    return _refusal(request, "403_csrf.html", _way_on(request, next_path=""))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: a request that could not be read (a form's body in a charset other than UTF-8, too large,
    with too many fields; a Host not served). Under ``/api/`` a problem detail (``middleware.bad_request``);
    elsewhere the site's page instead of Django's bare "Bad Request (400)", which gives a reader the numbers to
    call, as when a form could not be sent (``csrf_failure``): the answer that could not be read may have been a
    warning sign."""
    if is_api_request(request):
        return middleware.bad_request(request, exception)
    reader = not request.path.startswith(reverse("admin:index"))
    form = request.method not in ("GET", "HEAD", "OPTIONS")
    return _refusal(request, "400.html", {"reader": reader, "form": form, **notices.context()}, status=400)
