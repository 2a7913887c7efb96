"""Which HTTP methods a public page accepts, answered before the CSRF check.

Django's ``require_http_methods`` answers 405 only once the view runs, and
``CsrfViewMiddleware`` runs first: a PUT, PATCH or DELETE to a page got the CSRF
failure page (403), and a TRACE (which CSRF counts as safe) got the page itself
(200). ``allow_methods`` puts the method check in front: the view is exempt from
the middleware's check, refuses every other method with 405 and ``Allow``, and a
view that accepts POST gets the very same CSRF check as a decorator, after that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

View = Callable[..., Any]


def allow_methods(*methods: str) -> Callable[[View], View]:
    """Refuse any method but ``methods`` with 405 (and ``Allow``), before any CSRF check.

    Views that accept an unsafe method (POST) are still CSRF-protected, by
    ``csrf_protect`` inside the method check.
    """
    allowed = [method.upper() for method in methods]

    def decorator(view: View) -> View:
        inner = csrf_protect(view) if set(allowed) - SAFE_METHODS else view
        return csrf_exempt(require_http_methods(allowed)(inner))

    return decorator


allow_get = allow_methods("GET", "HEAD")
