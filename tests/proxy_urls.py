"""The site's URLs plus two pages that name their surrogate keys, for tests/test_proxy.py.

They stand for any public view that sets ``response.surrogate_keys``, so the
middleware and the proxy can be tested whatever the real views tag.
"""

from __future__ import annotations

import datetime
import itertools
import threading

from django.http import HttpRequest, HttpResponse
from django.urls import path

from contentsite import proxy
from contentsite.urls import urlpatterns as site_urlpatterns

renders = itertools.count(1)


def tagged(request: HttpRequest, key: str) -> HttpResponse:
    """A public page tagged with ``key`` whose body changes on every render, so a cached copy shows."""
    response = HttpResponse(f"render {next(renders)} of {key}\n", content_type="text/plain; charset=utf-8")
    response.surrogate_keys = [key, "index"]
    return response


def tagged_unchanging(request: HttpRequest, key: str) -> HttpResponse:
    """A public page tagged with ``key`` that renders the same every time, so it can be revalidated (304)."""
    response = HttpResponse(f"always the same for {key}\n", content_type="text/plain; charset=utf-8")
    response.surrogate_keys = [key]
    return response


def tagged_with_cookie(request: HttpRequest, key: str) -> HttpResponse:
    """A page that names its keys but sets a cookie: someone's own, never kept."""
    response = tagged(request, key)
    response.set_cookie("chosen", "1")
    return response


# Keys whose page now fails as the app does while its database is down (503 with Retry-After).
failing: set[str] = set()
failed: list[str] = []  # the keys of every 503 answered
# Keys whose page changes by itself at a time (a scheduled publication it shows), as the article views say it.
changes_at: dict[str, datetime.datetime] = {}


def tagged_until_failing(request: HttpRequest, key: str) -> HttpResponse:
    """``tagged`` (changing by itself at ``changes_at[key]``, if set), until ``key`` is put in ``failing``: then a 503,
    as ``contentsite.middleware`` answers."""
    if key in failing:
        failed.append(key)
        response = HttpResponse("unavailable\n", status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
    response = tagged(request, key)
    setattr(response, proxy.PROXY_UNTIL_ATTRIBUTE, changes_at.get(key))
    return response


# Keys whose page, once rendered, waits for the test before it is answered: the render (what the app read) is done,
# the response is still on its way to the proxy. ``held[key]`` is set when the render is done; the test sets
# ``released[key]`` to let it go.
held: dict[str, threading.Event] = {}
released: dict[str, threading.Event] = {}


def tagged_held(request: HttpRequest, key: str) -> HttpResponse:
    """``tagged``, answered only once the test releases it (a page that takes long to send, as under load)."""
    response = tagged(request, key)
    held.setdefault(key, threading.Event()).set()
    released.setdefault(key, threading.Event()).wait(timeout=30)
    return response


urlpatterns = [
    path("proxy-test/<slug:key>/", tagged),
    path("proxy-test-failing/<slug:key>/", tagged_until_failing),
    path("proxy-test-held/<slug:key>/", tagged_held),
    path("proxy-test-unchanging/<slug:key>/", tagged_unchanging),
    path("proxy-test-cookie/<slug:key>/", tagged_with_cookie),
    *site_urlpatterns,
]
