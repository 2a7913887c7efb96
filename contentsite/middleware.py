"""Response headers that Django and django-csp do not set themselves; lost lock races and database outages
answered clearly."""

import contextlib
import logging
import math
import re
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import BadRequest, RequestDataTooBig, ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.middleware.http import ConditionalGetMiddleware as DjangoConditionalGetMiddleware
from django.template.loader import render_to_string
from django.utils.cache import set_response_etag
from django.utils.http import escape_leading_slashes, parse_http_date_safe
from django.views import defaults

from .api.parsers import RequestBodyTooLarge
from .api.problems import problem_response
from .conditional import conditional_response
from .outages import log_outage

logger = logging.getLogger(__name__)


class FixedHeaderMiddleware:
    """Give every response ``header``, from the setting ``setting``, unless the view set its own."""

    header: str
    setting: str

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(self.header, getattr(settings, self.setting))
        return response


class PermissionsPolicyMiddleware(FixedHeaderMiddleware):
    """Turn off browser features the site never uses (camera, location, ...)."""

    header, setting = "Permissions-Policy", "PERMISSIONS_POLICY"


class PartnerAPIContentSecurityPolicyMiddleware(FixedHeaderMiddleware):
    """The partner API's policy (``PARTNER_API_CONTENT_SECURITY_POLICY``): its JSON loads, runs and frames nothing,
    so the policy is one fixed header instead of the pages' policy built for each response."""

    header, setting = "Content-Security-Policy", "PARTNER_API_CONTENT_SECURITY_POLICY"


# SQLSTATEs of a transaction that lost a race for a row: deadlock, serialization failure, lock timeout.
LOCK_CONFLICTS = frozenset({"40P01", "40001", "55P03"})
CONFLICT_MESSAGE = (
    "Nothing was saved: someone else changed this at the same moment. Reload the page and try again "
    "(use your browser's Back button first if you want to keep a copy of what you typed)."
)
# The same for a partner's program: no page to reload.
API_CONFLICT_MESSAGE = (
    "Nothing was changed: the data was busy at that moment. Send the same request again after Retry-After."
)
# Where the partner API lives: its errors are problem details (``contentsite.api.problems``), not pages.
API_PATH_PREFIX = "/api/"


class PermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    """308: the same request again at the new address, its method and body kept (RFC 9110, 15.4.9)."""

    status_code = 308


FORM = "application/x-www-form-urlencoded"


def refuse_a_form_not_in_utf8(request: HttpRequest) -> None:
    """A form's body declared in a charset other than UTF-8 is refused here, once, as a 400 (``BadRequest``).

    Django refuses it too, but only when the body is first read, and leaves it to be read again: the CSRF check
    read it first, and Django's 400 and 500 pages, which check the token again, read it again and raised again, so
    the request ended in a bare 500 from the server; sent to an address with no page, it was first read by the 404
    page, a 500 as well. Found from outside: a symptom check's answer sent with ``charset=latin-1``. Marked
    unreadable, as Django marks a multipart body it could not parse, the body reads as empty in the 400 page.
    """
    if request.method == "POST" and request.content_type == FORM and request.encoding not in (None, "utf-8"):
        request._mark_post_parse_error()  # type: ignore[attr-defined]
        raise BadRequest(f"A form's body is sent in UTF-8, not {request.encoding}.")


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except:

    - a form's body declared in a charset other than UTF-8 is a 400 (``refuse_a_form_not_in_utf8``), never a 500;

    - a request other than GET or HEAD to an address without its trailing slash is sent on with a 308, which keeps
      its method and body. Django sends a 301, which clients follow with a GET (the form's answers or the partner's
      body lost), and with DEBUG on refuses to, with a 500;
    - a 304 is not given the length of its own content (``Content-Length: 0``): a 304's Content-Length, if it has
      one, is the 200's (RFC 9110, 8.6), which is not known here.
    """

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        refuse_a_form_not_in_utf8(request)
        return super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            request.method not in ("GET", "HEAD")
            and response.status_code == 404
            and self.should_redirect_with_slash(request)
        ):
            return PermanentRedirectKeepingMethod(
                escape_leading_slashes(request.get_full_path(force_append_slash=True))
            )
        had_length = response.has_header("Content-Length")
        response = super().process_response(request, response)
        if response.status_code == 304 and not had_length:
            response.headers.pop("Content-Length", None)
        return response


class ConditionalGetMiddleware(DjangoConditionalGetMiddleware):
    """Django's, except that an error is given no ETag: an ETag names a version of what was asked for (RFC 9110,
    8.8.3), and a hash of an error's body named none (a partner's If-Match with the 412's ETag was refused again);
    that a HEAD is answered as the GET would be (RFC 9110, 9.3.2), its ETag, 304 and 412 included; and that the
    conditions are the site's rule (``contentsite.conditional``: Django's, as RFC 9110 reads malformed fields).

    Django's looks at GETs only, as its test client empties a HEAD's content before it is seen; the app servers'
    handler does not (the server leaves the content out), so the ETag is the GET's. Without this a HEAD whose
    If-Match failed was a 200 where the GET was a 412, and a page whose ETag this middleware makes had none on a HEAD.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return response
        # Django's set_response_etag makes none from empty content (a HEAD's, if whoever made it left it out).
        if self.needs_etag(response) and not response.has_header("ETag"):
            set_response_etag(response)
        etag = response.get("ETag")
        last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
        if etag or last_modified:
            return conditional_response(request, etag=etag, last_modified=last_modified, response=response)
        return response

    def needs_etag(self, response: HttpResponse) -> bool:
        return 200 <= response.status_code < 300 and super().needs_etag(response)


class AdminSelectionMiddleware:
    """A list action in the admin sent with a selected row that cannot be a row's key (a hand-made form: ``abc``, a
    number beyond the key's range, a NUL) is answered with the list again and a message; Django's own
    ``response_action`` filters by it unchecked, and its ValueError (or the database's error) was a 500. Every admin
    list, Django's own included, through the view's ``model_admin``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], *args: object
    ) -> HttpResponse | None:
        model_admin = getattr(view, "model_admin", None)
        if model_admin is None or request.method != "POST" or helpers.ACTION_CHECKBOX_NAME not in request.POST:
            return None
        key = model_admin.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                if "\x00" in value:  # no key holds one, and PostgreSQL refuses it in any text (a DataError)
                    raise ValidationError("NUL")
                key.run_validators(key.to_python(value))
        except (ValidationError, ValueError, TypeError):
            messages.warning(request, "The rows chosen could not be read. Tick them in the list and try again.")
            return HttpResponseRedirect(request.get_full_path())
        return None


def is_api_request(request: HttpRequest) -> bool:
    """Whether ``request`` is for the partner API, whose every error is a problem detail."""
    return request.path.startswith(API_PATH_PREFIX)


def sqlstate(error: BaseException | None) -> str | None:
    """The SQLSTATE of a database error, from the driver's error Django wraps (None on SQLite, or for anything else)."""
    return getattr(getattr(error, "__cause__", None), "sqlstate", None)


def is_lock_conflict(error: BaseException) -> bool:
    """Whether ``error`` is the database refusing a transaction that raced another for the same rows."""
    if not isinstance(error, OperationalError):
        return False
    if sqlstate(error) in LOCK_CONFLICTS:
        return True
    return "database is locked" in str(error)  # SQLite's busy timeout ran out


class LockConflictMiddleware:
    """A lost race for a row lock is a clear "try again", never a 500.

    The services take their locks in one order (article, then revision), so a
    deadlock should not happen; a lock wait can still time out
    (``DATABASE_LOCK_TIMEOUT_MS``). The transaction has been rolled back by then,
    so nothing was half-done: the API answers 409 with ``Retry-After`` (a problem detail, ``code``
    ``conflict``, declared on every operation of its schema), the admin
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
        if is_api_request(request):
            response: HttpResponse = problem_response(request, status=409, detail=API_CONFLICT_MESSAGE, code="conflict")
        elif request.path.startswith("/admin/") and getattr(request, "user", None) and request.user.is_staff:
            messages.error(request, CONFLICT_MESSAGE)
            response = HttpResponseRedirect(request.get_full_path())
        else:
            response = HttpResponse(CONFLICT_MESSAGE, status=409, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "1"
        response["Cache-Control"] = "no-store"
        return response


# --- The database unreachable, or taking no writes -------------------------------------------
# The request that needed it answers 503 with Retry-After (OUTAGE_RETRY_AFTER_SECONDS): a plain
# page for readers, a JSON error for partners, never a 500. Django replaces the broken connection
# on a later request (CONN_HEALTH_CHECKS), so the site recovers without a restart; pages served
# from the cache need no query and are still served. A server that answers but takes no writes
# (a hot standby, a primary demoted by a failover or set read-only) is the same outage for the
# requests that write; every read still answers.

# SQLSTATE read_only_sql_transaction: "cannot execute INSERT in a read-only transaction".
READ_ONLY_REFUSAL = "25006"

UNAVAILABLE_MESSAGE = "The service is temporarily unavailable. Please try again later (see Retry-After)."


def is_read_only_refusal(error: BaseException | None) -> bool:
    """Whether ``error`` is the database refusing a write because it takes none now (``READ_ONLY_REFUSAL``)."""
    return isinstance(error, DatabaseError) and sqlstate(error) == READ_ONLY_REFUSAL


def is_database_outage(error: BaseException | None) -> bool:
    """Whether ``error`` is the database being unreachable (refused, gone, restarting) or taking no writes, not a
    lost lock race."""
    if is_read_only_refusal(error):
        return True
    return isinstance(error, OperationalError | InterfaceError) and not is_lock_conflict(error)


# A statement that changes rows (a CTE's "WITH ... INSERT" too); not "SELECT ... FOR UPDATE", which changes none.
_WRITE_STATEMENT = re.compile(r"^\s*(?:WITH\b.*\b)?(?:INSERT|UPDATE|DELETE)\b", re.I | re.S)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class WritesSeen:
    """What a request's writes came to, as far as its process can tell: ``committed``, a write the database confirmed
    (its transaction committed, or it ran outside one); ``unconfirmed``, one whose transaction has not been seen to
    commit (its COMMIT may have been lost with the connection, and then nobody knows). A
    ``connection.execute_wrapper`` while the request runs (``DatabaseUnavailableMiddleware``)."""

    def __init__(self) -> None:
        self.committed = False
        self.unconfirmed = False

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        result = execute(sql, params, many, context)
        if isinstance(sql, str) and _WRITE_STATEMENT.match(sql):
            connection = context["connection"]
            if connection.in_atomic_block:
                self.unconfirmed = True
                connection.on_commit(self._confirmed)
            else:
                self.committed = True
        return result

    def _confirmed(self) -> None:
        self.committed = True
        self.unconfirmed = False

    def may_have_saved(self, error: BaseException) -> bool:
        """Whether what the request sent may be saved although ``error`` ended it: a write of it committed, or the
        error was its transaction's COMMIT going unanswered (``contentsite.postgresql``)."""
        return self.committed or (self.unconfirmed and getattr(error, "during_commit", False))


def database_unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    """503 with ``Retry-After``: JSON for the API, a plain page for everyone else; rendered without a query.

    After a write refused as read-only, the connections are closed, so that the next request connects again:
    after a failover the database's name leads to the new primary, while a connection kept (``CONN_MAX_AGE``)
    stays with the old one.

    A form sent (a triage answer, feedback, an admin step) is said not received, and to be sent again, only when
    none of its writes may have been saved (``WritesSeen``): a change that committed before the database went (the
    page after it needed the database) is said maybe saved, to be checked first; sent again, a comment would be
    added twice.
    """
    log_outage(logger, "database", "Database unavailable (%s): answering 503 until it is back.", error)
    if is_read_only_refusal(error):
        for database in connections.all(initialized_only=True):
            database.close()
    seconds = settings.OUTAGE_RETRY_AFTER_SECONDS
    sent = request.method not in _SAFE_METHODS
    writes = getattr(request, "writes_seen", None)
    maybe_saved = writes is not None and writes.may_have_saved(error)
    response: HttpResponse
    if is_api_request(request):
        response = problem_response(request, status=503, detail=UNAVAILABLE_MESSAGE, code="unavailable")
    else:
        # No request, so no context processors: nothing here may touch the database.
        page = render_to_string(
            "503.html",
            {
                "SITE_NAME": settings.SITE_NAME,
                "retry_after_minutes": max(1, math.ceil(seconds / 60)),
                "emergency_number": settings.TRIAGE_EMERGENCY_NUMBER,
                # A form sent (a triage answer, feedback) was not received, or may have been saved: the reader is
                # told which, not left guessing.
                "not_received": sent and not maybe_saved,
                "maybe_saved": sent and maybe_saved,
            },
        )
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    # Logged above, once a minute; not once per request by django.request as well.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: what Django refuses itself (a Host not in ``ALLOWED_HOSTS``, a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``) is, under ``/api/``, a problem detail like every API error."""
    if not is_api_request(request):
        return defaults.bad_request(request, exception)  # type: ignore[arg-type]
    if isinstance(exception, RequestDataTooBig):
        too_large = RequestBodyTooLarge.default_detail
        return problem_response(request, status=413, detail=too_large, code="request_too_large")
    return problem_response(request, status=400, detail="Bad request.", code="bad_request")


def server_error(request: HttpRequest, template_name: str = defaults.ERROR_500_TEMPLATE_NAME) -> HttpResponse:
    """``handler500``: a database outage met outside a view (in a middleware) is a 503 too, never a 500."""
    error = sys.exc_info()[1]
    if is_database_outage(error):
        return database_unavailable(request, error)  # type: ignore[arg-type]
    if is_api_request(request):
        return problem_response(
            request, status=500, detail="Something went wrong on our side; it is logged.", code="error"
        )
    return defaults.server_error(request, template_name)


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached is a 503 with ``Retry-After``, never a 500.

    Handles what views raise; ``server_error`` (``handler500``) handles what a
    middleware raises before the view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in _SAFE_METHODS:
            return self.get_response(request)
        # What the request writes, so that a 503 can say whether it may have been saved (``database_unavailable``).
        request.writes_seen = writes = WritesSeen()  # type: ignore[attr-defined]
        with contextlib.ExitStack() as watching:
            for database in connections.all():
                watching.enter_context(database.execute_wrapper(writes))
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        return database_unavailable(request, exception)
