"""Public pages answered before the middleware stack, from what is live and a per-process copy.

A view opts in with ``@answered_early(validators)``: ``validators(request, **kwargs)``
works out the page's ETag and Last-Modified from the live identity (one cache
read, see ``articles.live``) without rendering anything, or answers None (not
live, a malformed address: the view itself decides). The view uses the same
function, so the ETag has one rule.

``EarlyAnswerMiddleware`` sits just inside WhiteNoise. For a GET or HEAD by a
reader without a session, it asks the view's validators first; when this process
already holds the finished response for that address under that ETag (kept the
first time the full stack answered it: the 200, or for a 304 its headers), it
answers from that copy: a 304 when the reader's copy matches, else the 200 with
every header the stack gave it. No
session, CSRF, authentication, messages, CSP or template work runs, and no query.

A request for one of the partner API's JSON views (a class with ``not_modified_early``)
leaves the browser's middleware out: it is answered by ``PartnerAPIHandler``, Django's own
handler with the API's list, ``settings.PARTNER_API_MIDDLEWARE`` (no session, CSRF,
log-in, messages or page policy, which a partner's program never has or needs). There,
a partner's conditional GET is first offered to the view's class: ``not_modified_early``
runs the view's own ``initial()`` (the key, permissions, the rate limit, the query, the
validators) and ``finalize_response()`` on a 304, so the rules are the view's; the key,
the rate count and the live identity come in one cache round trip (``partners.admission``).
Anything but a 304 goes on to the view, which admits and counts the request no second
time. No response is kept for partners: their 304 is built each time.

Why this is safe: an ETag names the live revision, the article's place on the
public clock and the day (``articles.live``), so a response kept under it can
never become wrong; several app servers each keeping their own copy never
disagree. A publish, withdrawal, review or vocabulary change moves the live
identity, so the very next request misses and is answered by the full stack.
Only a response a shared cache could keep is kept: a 200 with the ETag the
validators named, public ``Cache-Control``, no cookie set, varying on nothing but
the session cookie (which such a request does not carry).
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import get_path_info
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.urls import Resolver404, ResolverMatch, get_resolver
from django.utils import timezone
from django.utils.http import http_date
from django.utils.module_loading import import_string

from articles.memo import BoundedMemo
from contentsite import proxy
from contentsite.cache import read_ahead as cache_read_ahead
from contentsite.cache import request_scope
from contentsite.conditional import conditional_response
from contentsite.outages import log_outage

# Finished responses by address and ETag, per process (a few hundred hot pages fit).
ANSWER_MEMO_BYTES = 32_000_000
_answers = BoundedMemo(ANSWER_MEMO_BYTES)
# Addresses whose resolution this process remembers (least recently used forgotten first).
RESOLVED_PATHS = 4096

# Cookies a public page could depend on: with either, the full stack answers.
_PERSONAL_COOKIES = ("messages",)
# Headers that describe the body: a 304 leaves them out (RFC 9110, 15.4.5).
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "content-language"})
# A kept response may vary on these only: the session cookie (absent on this path) and compression.
_VARY_ALLOWED = frozenset({"cookie", "accept-encoding"})

logger = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., HttpResponseBase])

# A Last-Modified names a whole second, so two versions changed within one second share it: a client that holds the
# first and revalidates with If-Modified-Since alone would be told 304 for the second, and keep the old copy until the
# next change (RFC 9110, 8.8.2.2: such a date is a weak validator). So a version's Last-Modified is sent only once no
# later version can share its second (``Validators.settled``): a change is dated when its transaction takes its time,
# and commits after at most two lock waits (``DATABASE_LOCK_TIMEOUT_MS`` each: the live revisions', the public clock's)
# and its statements; this margin covers those statements and the app servers' clocks differing. Until then the ETag
# alone validates the version (it names the version itself): browsers, Varnish and partners revalidate with it.
LAST_MODIFIED_MARGIN = datetime.timedelta(seconds=30)


def last_modified_settles_after() -> datetime.timedelta:
    """How long after a version's time its ``Last-Modified`` is first sent (50 s with the default lock timeout)."""
    return 2 * datetime.timedelta(milliseconds=settings.DATABASE_LOCK_TIMEOUT_MS) + LAST_MODIFIED_MARGIN


@dataclass(frozen=True)
class Validators:
    """A page's ETag and Last-Modified, known before it is rendered."""

    etag: str
    last_modified: datetime.datetime | None
    # When this version stops being current by itself (a scheduled publication's time), if it will.
    expires_at: datetime.datetime | None = None

    @property
    def timestamp(self) -> int | None:
        return int(self.last_modified.timestamp()) if self.last_modified else None

    @property
    def settled(self) -> bool:
        """Whether the version's time is long enough ago that no later version can share its second (nor can
        one be dated so by a transaction still running): its ``Last-Modified`` is sent from then on."""
        modified = self.last_modified
        return modified is not None and timezone.now() - modified >= last_modified_settles_after()

    @property
    def last_modified_header(self) -> str | None:
        """The response's ``Last-Modified``: the version's time (whole seconds) once it has ``settled``, else none
        (the ETag alone validates it until then)."""
        return http_date(self.timestamp) if self.settled else None

    def conditional_response(self, request: HttpRequest) -> HttpResponse | None:
        """Django's answer to ``request``'s conditional headers for this version: a 304 (the reader's copy is this
        one) or a 412 (``If-Match`` or ``If-Unmodified-Since`` refuses it), with none of the page's headers yet;
        None: answer in full.

        A client revalidating sends back exactly the ETag it was given: with no precondition that could refuse it,
        that is Django's 304 at once, without parsing any header (a tenth of an early 304's CPU, profiled); any
        other request is the site's rule itself (``contentsite.conditional``: Django's, as RFC 9110 reads malformed
        fields).
        """
        meta = request.META
        if (
            meta.get("HTTP_IF_NONE_MATCH") == self.etag
            and "HTTP_IF_MATCH" not in meta
            and "HTTP_IF_UNMODIFIED_SINCE" not in meta
            and request.method in ("GET", "HEAD")
        ):
            return HttpResponseNotModified()
        return conditional_response(request, etag=self.etag, last_modified=self.timestamp)

    def conditional_status(self, request: HttpRequest) -> int | None:
        """What ``request``'s conditional headers ask of this version: 304, 412, or None (``conditional_response``)."""
        answer = self.conditional_response(request)
        return answer.status_code if answer is not None else None

    def not_modified(self, request: HttpRequest) -> bool:
        """Whether ``request``'s conditional headers say the reader's copy is this one (a 304)."""
        return self.conditional_status(request) == 304


ValidatorsFor = Callable[..., Validators | None]


def answered_early(
    validators: ValidatorsFor, *, reads: Callable[..., Sequence[str]] | None = None
) -> Callable[[View], View]:
    """Mark a view whose page ``validators(request, **url_kwargs)`` can name before it runs. ``reads(**url_kwargs)``:
    the cache keys the validators read first, asked of the cache as the request arrives (``read_ahead``)."""

    def decorate(view: View) -> View:
        view.early_validators = validators  # type: ignore[attr-defined]
        view.early_reads = reads  # type: ignore[attr-defined]
        return view

    return decorate


def read_ahead(environ: dict[str, Any]) -> None:
    """Ask the shared cache, as a GET or HEAD arrives, for what the page it is for reads first (``answered_early``'s
    ``reads``: the live identity's pointer), without waiting for the reply (``contentsite.cache.read_ahead``).

    Called by the app server's handler (``contentsite.handlers``) before Django builds the request. The reply comes
    while Django does the rest of its work before the page's validators read it: a process that waited for it instead
    slept through the round trip and woke to cold caches, which cost a 304 more CPU than the work it does (profiled:
    a fifth of an early 304's CPU). Only what the request would read anyway is asked, by the same keys, read once;
    a value asked ahead is as current as one read a moment later, since the request had already arrived. This is
    only a head start: anything going wrong here leaves the request to read as it would have.

    A partner's request with credentials sends its admission's one round trip so too (its view class's
    ``admit_ahead``, ``partners.admission.admit_ahead``): the key's row, its rate count and what the view reads
    first, which the admission then takes (the same question, asked once). A request refused before it is admitted
    has the hit taken back by its end (``contentsite.cache.CountAhead``).
    """
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return
    try:
        match = _resolve(settings.ROOT_URLCONF, get_path_info(environ))
        if match is None:
            return
        reads = getattr(match.func, "early_reads", None)
        if reads is not None:
            cache_read_ahead(reads(*match.args, **match.kwargs))
        admit = getattr(getattr(match.func, "view_class", None), "admit_ahead", None)
        if admit is not None and "HTTP_AUTHORIZATION" in environ:
            admit(environ, match.kwargs)
    except Exception:
        log_outage(logger, "read-ahead", "Reading ahead failed: the request reads as it arrives.", exc_info=True)


# A header as ``ResponseHeaders`` stores it: lower-cased name -> (name, value).
_Stored = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class _Answer:
    """A response the full stack gave under an ETag: the 200 (``content``), or only a 304's headers.

    Its headers are kept as Django's ``ResponseHeaders`` stores them, checked once when the full
    stack set them, so an answer copies them in one step instead of checking each again (a
    tenth of the cost of a 304 answered here, profiled). Each answer gets its own copy: the
    middleware above may still add to it.
    """

    content: bytes | None
    headers: _Stored
    not_modified_headers: _Stored

    @classmethod
    def of(cls, response: HttpResponse) -> _Answer:
        content = response.content if response.status_code == 200 else None
        headers = {name.lower(): (name, value) for name, value in response.headers.items()}
        return cls(content, headers, {key: kept for key, kept in headers.items() if key not in _BODY_HEADERS})

    def full(self) -> HttpResponse:
        response = HttpResponse(self.content)
        response.headers._store.update(self.headers)
        return response

    def not_modified(self) -> HttpResponseNotModified:
        response = HttpResponseNotModified()
        response.headers._store.update(self.not_modified_headers)
        return response

    @property
    def size(self) -> int:
        return len(self.content or b"") + sum(len(name) + len(value) for name, value in self.headers.values())


def _keepable(response: HttpResponseBase, validators: Validators) -> bool:
    """A 200 or 304 under ``validators``' ETag that a shared cache could keep."""
    if response.status_code not in (200, 304) or response.streaming or response.cookies:
        return False
    if response.get("ETag") != validators.etag:
        return False
    control = {part.strip().split("=")[0].lower() for part in response.get("Cache-Control", "").split(",")}
    if "public" not in control or control & {"private", "no-store"}:
        return False
    vary = {part.strip().lower() for part in response.get("Vary", "").split(",") if part.strip()}
    return vary <= _VARY_ALLOWED


class EarlyAnswerMiddleware:
    """Answer a repeat anonymous GET of a page marked ``answered_early`` from this process's copy; hand a request for
    a partner API view to ``PartnerAPIHandler`` (the API's own middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.partner_api = PartnerAPIHandler()
        self.partner_api.load_middleware()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with request_scope():  # values read ahead (``contentsite.cache``) last for this request only
            partner_view = _partner_view(request)
            if partner_view is not None:
                return self.partner_api.answer(request, partner_view)
            if "HTTP_AUTHORIZATION" in request.META:  # credentials: never a copy kept for everyone
                return self.get_response(request)
            return self._answer(request)

    def _answer(self, request: HttpRequest) -> HttpResponseBase:
        validators = self._validators(request)
        # Near a scheduled change, a page's Cache-Control shortens with every second (``proxy.lifetime``): a copy
        # kept earlier would tell the proxy to keep the page past the change.
        if validators is None or proxy.bounded(validators.expires_at):
            return self.get_response(request)
        # A copy made before the version's date settled has no Last-Modified (``Validators.settled``): one made after is
        # kept apart.
        settled = validators.settled
        full, headers_only = (
            (request.path, validators.etag, settled, 200),
            (request.path, validators.etag, settled, 304),
        )
        asked = validators.conditional_status(request)
        if asked == 412:  # If-Match or If-Unmodified-Since refuses this version: the full stack says so
            return self.get_response(request)
        if asked == 304:
            answer: _Answer | None = _answers.get(full) or _answers.get(headers_only)
            if answer is not None:
                return answer.not_modified()
        else:
            answer = _answers.get(full)
            if answer is not None:
                return answer.full()
        response = self.get_response(request)
        if isinstance(response, HttpResponse) and _keepable(response, validators):
            kept = _Answer.of(response)
            _answers.put(full if kept.content is not None else headers_only, kept, kept.size)
        return response

    @staticmethod
    def _validators(request: HttpRequest) -> Validators | None:
        if request.method not in ("GET", "HEAD"):
            return None
        if settings.SESSION_COOKIE_NAME in request.COOKIES or any(c in request.COOKIES for c in _PERSONAL_COOKIES):
            return None
        request.get_host()  # refuses a host outside ALLOWED_HOSTS (400), as the full stack would
        match = _resolve(getattr(request, "urlconf", None) or settings.ROOT_URLCONF, request.path_info)
        if match is None:
            return None
        find: Any = getattr(match.func, "early_validators", None)
        return find(request, *match.args, **match.kwargs) if find is not None else None


class PartnerAPIHandler(BaseHandler):
    """Django's own request handling for the partner API's JSON views, through ``PARTNER_API_MIDDLEWARE`` only.

    The same steps as the full stack from here in (view middleware, an atomic view where
    configured, template responses, exceptions turned into responses by each middleware
    and by Django), with the API's own middleware list. A partner's conditional GET is
    offered to the view's class first (``not_modified_early``): a 304 needs neither.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        # ``BaseHandler.load_middleware``'s steps for the API's list (every middleware in it is synchronous).
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.PARTNER_API_MIDDLEWARE):
            try:
                middleware = import_string(path)(handler)
            except MiddlewareNotUsed:  # as Django's loader: a middleware may opt out at start
                continue
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler

    def answer(self, request: HttpRequest, match: ResolverMatch) -> HttpResponseBase:
        """The response to ``request``, which resolved to ``match``, a partner API view."""
        request.get_host()  # refuses a host outside ALLOWED_HOSTS (400), as the full stack would
        request.resolver_match = match  # as the handler would set it: the API's version is its URL namespace
        # A 304 first: it carries the validators and the rate limit, and a cache keeps the 200's other headers
        # (RFC 9111, 4.3.4), so it needs none of this list's.
        return _not_modified_early(request, match) or self._middleware_chain(request)  # type: ignore[misc]

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        return request.resolver_match  # resolved already (``answer``): not again


def _partner_view(request: HttpRequest) -> ResolverMatch | None:
    """What ``request`` resolves to if it is one of the partner API's JSON views (``not_modified_early``), else None."""
    match = _resolve(getattr(request, "urlconf", None) or settings.ROOT_URLCONF, request.path_info)
    if match is None or getattr(getattr(match.func, "view_class", None), "not_modified_early", None) is None:
        return None
    return match


def _not_modified_early(request: HttpRequest, match: ResolverMatch) -> HttpResponseBase | None:
    """A partner's conditional GET answered 304 by its view's own rules (``not_modified_early``), else None."""
    if request.method not in ("GET", "HEAD") or "HTTP_AUTHORIZATION" not in request.META:
        return None
    if "HTTP_IF_NONE_MATCH" not in request.META and "HTTP_IF_MODIFIED_SINCE" not in request.META:
        return None
    return match.func.view_class.not_modified_early(match.func, request, match.args, match.kwargs)


@functools.lru_cache(maxsize=RESOLVED_PATHS)
def _resolve(urlconf: Any, path_info: str) -> ResolverMatch | None:
    """What ``path_info`` resolves to (None: nothing), remembered per process: the URLconf never changes while
    it runs, and resolving is a tenth of a 304 answered here (profiled). Only read, never changed: the
    partner path hands it to DRF as ``request.resolver_match``, as the handler would its own."""
    try:
        return get_resolver(urlconf).resolve(path_info)
    except Resolver404:
        return None
