"""Response headers that Django and django-csp do not set themselves, and lost lock races answered clearly."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse

logger = logging.getLogger(__name__)


class PermissionsPolicyMiddleware:
    """Turn off browser features the site never uses (camera, location, ...)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


# SQLSTATEs of a transaction that lost a race for a row: deadlock, serialization failure, lock timeout.
LOCK_CONFLICTS = frozenset({"40P01", "40001", "55P03"})
CONFLICT_MESSAGE = (
    "Nothing was saved: someone else changed this at the same moment. Reload the page and try again "
    "(use your browser's Back button first if you want to keep a copy of what you typed)."
)


def is_lock_conflict(error: BaseException) -> bool:
    """Whether ``error`` is the database refusing a transaction that raced another for the same rows."""
    if not isinstance(error, OperationalError):
        return False
    if getattr(error.__cause__, "sqlstate", None) in LOCK_CONFLICTS:
        return True
    return "database is locked" in str(error)  # SQLite's busy timeout ran out


class LockConflictMiddleware:
    """A lost race for a row lock is a clear "try again", never a 500.

    The services take their locks in one order (article, then revision), so a
    deadlock should not happen; a lock wait can still time out
    (``DATABASE_LOCK_TIMEOUT_MS``). The transaction has been rolled back by then,
    so nothing was half-done: the API answers 409 with ``Retry-After``, the admin
    goes back to the page with a message, and other pages answer 409.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_lock_conflict(exception):
            return None
        logger.warning("Lock conflict on %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": CONFLICT_MESSAGE, "code": "conflict"}, status=409)
        elif request.path.startswith("/admin/") and getattr(request, "user", None) and request.user.is_staff:
            messages.error(request, CONFLICT_MESSAGE)
            response = HttpResponseRedirect(request.get_full_path())
        else:
            response = HttpResponse(CONFLICT_MESSAGE, status=409, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "1"
        response["Cache-Control"] = "no-store"
        return response
