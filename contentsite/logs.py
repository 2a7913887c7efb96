"""The application's logs: one line per request, a request id on every line, repeated warnings sampled.

``RequestLogMiddleware`` writes one line per request to the logger
``contentsite.requests``: request id, method, path, the query's keys (never its
values, which can hold what a reader typed), status, duration, and who asked
when that is known without a query: the partner for the API, the member of
staff for the admin. Nothing else of the request is logged: no header, cookie,
key, password or body.

Every other line logged while a request is handled carries its request id
(``RequestIdFilter``, installed on the handlers in ``LOGGING``), so a workflow
transition or a proxy purge can be traced to the request that caused it.

``RepeatedWarningFilter`` (also on the handlers) lets the first of a run of
identical warnings through and counts the rest: a partner hammering the API
gives one "rate limited" line a minute, with the count of those it stood for,
instead of a line per refused request. The counts live in the process (a log
sampler, not shared state): each app server samples its own lines.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

logger = logging.getLogger("contentsite.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept when it is a plain token of at most 128 characters (a load balancer's,
# the proxy's, a partner's UUID); anything else is replaced, so a client cannot write arbitrary text into logs.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# The admin's own prefix: its requests are logged with the staff member's user id.
ADMIN_PREFIX = "/admin/"
RATE_LIMITED = 429
# Query parameter names as the site and the API use them (``q``, ``updated_since``, ``mainSearchCriteria.v.c``).
QUERY_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,63}")
MAX_QUERY_KEYS = 20
MAX_QUERY_PARTS = 100

# The request being handled, for the log lines written while it is (``RequestIdFilter``).
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def request_id_for(request: HttpRequest) -> str:
    """The client's (or load balancer's) ``X-Request-ID`` when well formed, else a new random one."""
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    if incoming and REQUEST_ID_PATTERN.fullmatch(incoming):
        return incoming
    return os.urandom(16).hex()  # as random as uuid4, a tenth of its cost


def query_keys(request: HttpRequest) -> list[str]:
    """The query string's parameter names, sorted, never their values.

    Read from the raw query string (no parsing that could refuse it): a name that
    does not look like a parameter name (``?my+symptoms``, an e-mail address) could
    be what someone typed, so it shows as ``"?"``. At most ``MAX_QUERY_KEYS`` names,
    the first found in the first ``MAX_QUERY_PARTS`` parameters.
    """
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return []
    shown: set[str] = set()
    for part in raw.split("&", MAX_QUERY_PARTS)[:MAX_QUERY_PARTS]:
        if part and len(shown) < MAX_QUERY_KEYS:
            name = part.partition("=")[0]
            shown.add(name if QUERY_KEY_PATTERN.fullmatch(name) else "?")
    return sorted(shown)


def _partner_id(request: HttpRequest) -> int | None:
    """The authenticated partner of an API request (DRF copies ``request.auth`` onto the Django request)."""
    return getattr(getattr(request, "auth", None), "partner_id", None)


def _staff_user_id(request: HttpRequest) -> int | None:
    """The staff member of an admin request; the admin has already loaded the user, so no query."""
    if not request.path.startswith(ADMIN_PREFIX):
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return None
    return user.pk


class RequestLogMiddleware:
    """One log line per request, and its request id echoed in ``X-Request-ID``.

    Outermost but for the health probes (``contentsite.health``), so its duration
    and status are what the client got, redirects and error pages included. It
    costs two clock reads, a context variable and one log record: no query, and
    nothing read that the request had not loaded already.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self._log(request, response, request_id, (time.perf_counter() - started) * 1000)
            return response
        finally:
            current_request_id.reset(token)

    @staticmethod
    def _log(request: HttpRequest, response: HttpResponse, request_id: str, duration_ms: float) -> None:
        status = response.status_code
        partner_id = _partner_id(request)
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "query_keys": query_keys(request),
            "status": status,
            "duration_ms": round(duration_ms, 1),
            "partner_id": partner_id,
            "staff_user_id": _staff_user_id(request),
        }
        if status >= 500:
            level = logging.ERROR
        elif status == RATE_LIMITED:
            # One line a minute per partner (or per address without one), with a count: RepeatedWarningFilter.
            level = logging.WARNING
            fields["sample_key"] = ("rate-limited", partner_id or request.META.get("REMOTE_ADDR"))
        else:
            level = logging.INFO
        logger.log(level, "%s %s %s %.1fms", request.method, request.path, status, duration_ms, extra=fields)


class RequestIdFilter(logging.Filter):
    """Give every record the id of the request being handled (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


_FILTERS: list[RepeatedWarningFilter] = []


def forget_repeated_warnings() -> None:
    """Let the next of every warning through again (tests start each case afresh)."""
    for sampler in _FILTERS:
        with sampler._lock:
            sampler._runs.clear()


class RepeatedWarningFilter(logging.Filter):
    """Let one of each identical warning through per ``interval`` seconds; count the rest.

    Warnings are identical when they have the same logger, message and
    arguments, or the same ``sample_key`` when the caller names one (the
    request line of a 429 names the partner). The first line after a quiet
    interval carries ``repeated``: how many identical lines were held back
    since the last one let through (``TextFormatter`` shows it as "(and N
    more like it)", the JSON line as a field). Errors are never sampled. At most
    ``max_keys`` runs are tracked; past that the oldest are forgotten (their
    next line is let through), so memory stays bounded whatever arrives.
    """

    def __init__(
        self,
        name: str = "",
        interval: float = 60.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name)
        self.interval = interval
        self.max_keys = max_keys
        self.clock = clock
        self._lock = threading.Lock()
        # key -> [time the last line was let through, lines held back since]
        self._runs: dict[Hashable, list[float | int]] = {}
        _FILTERS.append(self)

    def _key(self, record: logging.LogRecord) -> Hashable:
        key = getattr(record, "sample_key", None)
        if key is not None:
            return (record.name, key)
        try:
            return (record.name, str(record.msg), tuple(map(str, record.args or ())))
        except Exception:  # arguments that cannot be shown: never sampled, never lost
            return None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        # One decision per record, however many handlers share this filter.
        decided = getattr(record, "_sampled", None)
        if decided is not None:
            return decided
        record._sampled = self._let_through(record)
        return record._sampled

    def _let_through(self, record: logging.LogRecord) -> bool:
        key = self._key(record)
        if key is None:
            return True
        now = self.clock()
        with self._lock:
            run = self._runs.get(key)
            if run is not None and now - run[0] < self.interval:
                run[1] += 1
                return False
            if run is None and len(self._runs) >= self.max_keys:
                for old in list(self._runs)[: self.max_keys // 10 or 1]:
                    del self._runs[old]
            held_back = int(run[1]) if run is not None else 0
            self._runs.pop(key, None)
            self._runs[key] = [now, 0]  # re-inserted: the dict stays in order of last use
        if held_back:
            record.repeated = held_back  # the record is shared by every handler: add, never rewrite
        return True


class TextFormatter(logging.Formatter):
    """Django's usual text lines, with the count of identical warnings held back (``RepeatedWarningFilter``)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        repeated = getattr(record, "repeated", 0)
        return f"{text} (and {repeated} more like it)" if repeated else text


# Fields a record carries for the filters above, not for readers of the log.
_INTERNAL_FIELDS = ("sample_key", "_sampled")


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line (python-json-logger), without the sampling filter's bookkeeping."""

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        for name in _INTERNAL_FIELDS:
            log_data.pop(name, None)
