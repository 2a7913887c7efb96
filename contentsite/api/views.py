"""Behaviour every partner API view shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test.signals import setting_changed
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import status
from rest_framework.exceptions import APIException, NotAcceptable, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from articles.live import (
    SITE_POINTER,
    Live,
    Site,
    cache_get,
    cache_set,
    identity_cache_keys,
    live_identity,
    site_identity,
)
from articles.memo import BoundedMemo
from articles.models import ArticleKind, Withdrawn
from contentsite.early import Validators
from partners.admission import ADMISSION, Admission, admit_ahead
from partners.authentication import PartnerKeyAuthentication, authenticated_key
from partners.permissions import HasPartnerKey
from partners.throttling import RATE_LIMIT_HEADERS, PartnerKeyRateThrottle, rate_limit_headers, rate_limit_wait

from .parsers import RequestBodyTooLarge

# Bump when the payloads change shape in a way cached bodies and partners' ETags must not outlive.
API_CACHE_VERSION = 1


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This was withdrawn and is no longer published."
    default_code = "gone"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "If-Match or If-Unmodified-Since does not match the current version (see its ETag)."
    default_code = "precondition_failed"


class NotModified(Exception):
    """The partner's copy is current: answered 304 before the handler runs."""


@dataclass(frozen=True)
class IdentityValidators:
    """A response's validators made from one identity of what is live (``articles.live``) and nothing else: the
    article of ``kind`` at ``slug``, or the site's public clock (``slug`` None), and ``name``, what the body
    shows of it. With the representation (``PartnerView.representation``), that is the whole ETag."""

    kind: str | None
    slug: str | None
    name: str

    @property
    def keys(self) -> tuple[str, ...]:
        """What reading the identity reads from the cache: read ahead with the partner's key."""
        return (SITE_POINTER,) if self.slug is None else identity_cache_keys(self.slug, kind=str(self.kind))

    def read(self) -> Live | Site:
        """The identity; ``Withdrawn`` (410) or ``Http404`` where no article is live at the address."""
        return site_identity() if self.slug is None else live_identity(self.slug, kind=str(self.kind)).require()

    def of(self, representation: tuple[object, ...]) -> tuple[Live | Site, Validators]:
        identity = self.read()
        return identity, Validators(identity.etag(self.name, *representation), identity.last_modified)


# What the view's ``initial()`` decided for each kind of partner request that it answered 304, per process
# (``PartnerView.not_modified_early``): a few thousand kinds, least recently used forgotten first.
DECIDED_MEMO_BYTES = 4_000_000
_decided = BoundedMemo(DECIDED_MEMO_BYTES)
# The fields of a 304 that differ from one request of a kind to the next; the rest are the kind's.
_PER_REQUEST = frozenset({"etag", "last-modified", *(name.lower() for name in RATE_LIMIT_HEADERS)})


@dataclass(frozen=True)
class _Decided:
    """What only the shape of a kind of request decides: the representation its ETag names (media type, query,
    version, host) and its 304's other fields (``Vary``, ``Allow``, ``Cache-Control``), as the view set them."""

    representation: tuple[object, ...]
    # The view's fields in its order; a request's own (validators, rate fields) are None here (``_write_fields``).
    headers: dict[str, tuple[str, str] | None]

    @property
    def size(self) -> int:
        return len(repr(self.representation)) + _size_of(self.headers)

    def not_modified(self, request: HttpRequest, identity: IdentityValidators) -> HttpResponseBase | None:
        """The 304 for this request of the kind, asking only what differs per request: the key and the rate count
        (one round trip, with ``identity`` read ahead) and what is live; None: anything else (the view says so)."""
        try:
            key = authenticated_key(request, request.META["HTTP_AUTHORIZATION"], identity.keys)
            if rate_limit_wait(request, key) is not None:
                return None
            _, validators = identity.of(self.representation)
        except Exception:  # refused, over the limit, gone or failing: the full stack says so, as the view would
            return None
        response = validators.conditional_response(request)
        if response is None or response.status_code != 304:
            return None
        # The validators and the rate fields are this request's own; ``_write_fields`` puts them in the view's order.
        _set_validators(response, validators)
        own = dict(response.headers._store)
        _write_fields(response, self.headers, own, request)
        return response


# A kind of request (``_kind_of``): the parts of a request that what the view decides can depend on.
Kind = tuple[object, ...]


def _kind_of(cls: type, request: HttpRequest, kwargs: dict[str, Any]) -> Kind:
    """Everything of ``request`` that what the view's ``initial()`` decides can depend on, besides the key and what
    is live: the view, method, route and version, a format suffix, the query, ``Accept``, and the scheme and host
    (which also checks the host against ``ALLOWED_HOSTS``). Not the article's address: one kind serves them all."""
    match = request.resolver_match
    meta = request.META
    return (
        cls,
        request.method,
        match.route if match else None,
        match.namespace if match else None,
        kwargs.get(api_settings.FORMAT_SUFFIX_KWARG),
        meta.get("QUERY_STRING", ""),
        meta.get("HTTP_ACCEPT"),
        request.build_absolute_uri("/"),
    )


def _checks_only_the_partner_rules(view: Any) -> bool:
    """Whether the view's only checks are the partner key, its permission and its rate (which a decided kind asks
    on every request)."""
    return (
        [type(each) for each in view.get_authenticators()] == [PartnerKeyAuthentication]
        and [type(each) for each in view.get_permissions()] == [HasPartnerKey]
        and [type(each) for each in view.get_throttles()] == [PartnerKeyRateThrottle]
    )


def _asks_only_the_partner_rules(view: Any) -> bool:
    """Whether the view's only checks are the partner rules (``_checks_only_the_partner_rules``), and it counts
    nothing ahead (a decided 304 counts nothing but the request)."""
    return _checks_only_the_partner_rules(view) and not tuple(view.counts_ahead())


@dataclass(frozen=True)
class DecidedBody:
    """What only the shape of a kind of request decides of the view's 200 to it (``PartnerView.kind_of_body``): the
    renderer and media type its body is written in, and its fields (``Content-Type``, ``Vary``, ``Allow``,
    ``Cache-Control``) as the view's response had them. The rate fields are each request's own."""

    renderer: Any
    media_type: str
    # The view's fields in its order; a request's own (the rate fields) are None here (``_write_fields``).
    headers: dict[str, tuple[str, str] | None]

    @property
    def size(self) -> int:
        return len(self.media_type) + _size_of(self.headers)

    def response(self, request: HttpRequest, data: Any) -> HttpResponse:
        """The 200 with ``data`` as its body, written as DRF's ``Response`` writes it: by the JSON renderer (the only
        one kept, ``keep_decided_body``), whose output follows from the data and the media type alone (the
        context it is given, the view's, holds no indent); its fields as the view's, in the view's order."""
        response = HttpResponse(self.renderer.render(data, self.media_type, {}))
        _write_fields(response, self.headers, {}, request)
        return response


def _kept_fields(response: HttpResponseBase) -> dict[str, tuple[str, str] | None]:
    """``response``'s fields in order, for a decided kind: each request's own (``_PER_REQUEST``) as None."""
    return {key: None if key in _PER_REQUEST else field for key, field in response.headers._store.items()}


def _size_of_kind(kind: Kind) -> int:
    """The characters a kind holds of what its requests sent (``Accept``, ``Content-Type``, the query, the host),
    which a partner chooses: the memo's bound counts them, besides what is kept for the kind."""
    return sum(len(part) for part in kind if isinstance(part, str))


def _size_of(fields: dict[str, tuple[str, str] | None]) -> int:
    return sum(len(field[0]) + len(field[1]) for field in fields.values() if field is not None)


def _write_fields(
    response: HttpResponseBase,
    kept: dict[str, tuple[str, str] | None],
    own: dict[str, tuple[str, str]],
    request: HttpRequest,
) -> None:
    """Give ``response`` the fields of a decided kind (``kept``, in the view's order) with this request's ``own`` and
    its rate fields in their places, as the view would write them. Stored as ``ResponseHeaders`` keeps them, without
    checking each again: the kept ones as the view's response had them (checked when it set them), the request's own
    ASCII by construction (a quoted digest, an HTTP date, numbers)."""
    own = {**own, **{name.lower(): (name, value) for name, value in rate_limit_headers(request).items()}}
    store = response.headers._store
    store.clear()
    for key, field in kept.items():
        found = own.pop(key, None) if field is None else field
        if found is not None:
            store[key] = found
    store.update(own)


def _set_validators(response: HttpResponseBase, validators: Validators) -> None:
    """Give ``response`` its ``ETag`` and ``Last-Modified``: for the view's responses and a decided 304 alike. Stored
    as ``ResponseHeaders`` keeps them, without checking each value again: a quoted hex digest and an HTTP date are
    ASCII by construction."""
    store = response.headers._store
    store["etag"] = ("ETag", validators.etag)
    last_modified = validators.last_modified_header
    if last_modified is not None:
        store["last-modified"] = ("Last-Modified", last_modified)


@receiver(setting_changed)
def forget_decided(**kwargs: Any) -> None:
    """Forget every kind of request decided: settings shape them (``REST_FRAMEWORK``, the host rules), and settings
    change only in tests."""
    _decided.clear()


class PartnerView:
    """Shared behaviour: private caching, no unknown or repeated query parameters, and 304 before any serialising.

    Every response the throttle counted (any with a partner key: 200, 304, 4xx, 429)
    carries the partner's ``RateLimit`` and ``RateLimit-Policy`` (``partners.throttling``).
    The early 304 (``not_modified_early``, called by ``contentsite.early``) is this same
    ``initial()`` (whose throttle works the fields out) and ``finalize_response()`` (which
    writes them), so it carries them too.

    A view says what its response depends on through ``validators()``: an ETag
    and a Last-Modified worked out from the live identity (``articles.live``),
    without serialising anything. ``initial()`` asks it after authentication,
    permissions and throttling, and answers a matching conditional request 304
    before the handler runs; a 200 carries the same validators, so
    ``ConditionalGetMiddleware`` never hashes the body.
    """

    allowed_query_parameters: frozenset[str] = frozenset()
    # Whether what this view answers about may not exist where its identity is live (a revision's number, a
    # vocabulary entry): its conditional requests are answered once its body is found (``cached_body``: kept under
    # the ETag, or built, else 404), never from the validators alone, so that what would be a 404 is one whatever
    # the conditions (RFC 9110, 13.2.1), never a 412 or 304 naming a version of nothing.
    found_by_its_body = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        try:
            super().initial(request, *args, **kwargs)  # type: ignore[misc]
        except NotAcceptable:
            # DRF negotiates before it authenticates: a 406 to a key is still checked, counted and told where its
            # partner stands, as every response to a key is (a refused key is its 401 instead).
            self.perform_authentication(request)  # type: ignore[attr-defined]
            self.check_permissions(request)  # type: ignore[attr-defined]
            self.check_throttles(request)  # type: ignore[attr-defined]
            raise
        unknown = sorted(set(request.query_params) - self.allowed_query_parameters)
        if unknown:
            known = ", ".join(sorted(self.allowed_query_parameters)) or "none"
            raise ValidationError(
                {name: [f"Unknown query parameter; this endpoint accepts: {known}."] for name in unknown}
            )
        # Every parameter takes one value: a second would otherwise be read in place of the first, silently.
        repeated = sorted(name for name, values in request.query_params.lists() if len(values) > 1)
        if repeated:
            raise ValidationError({name: ["Given more than once; give it once."] for name in repeated})
        conditional = self.conditional if request.method in {"GET", "HEAD"} else None
        if not self.found_by_its_body:
            self.answer_conditions(conditional)

    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """As a GET would be where what it finds decides (``found_by_its_body``): 404 where it finds nothing."""
        if self.found_by_its_body:
            self.get_object()  # type: ignore[attr-defined]
        return super().options(request, *args, **kwargs)  # type: ignore[misc]

    def answer_conditions(self, conditional: Validators | None) -> None:
        """Raise what the request's conditional headers ask of this version: a 412 or a 304, if either."""
        status_asked = conditional.conditional_status(self.request) if conditional is not None else None  # type: ignore[attr-defined]
        if status_asked == 412:
            # Here rather than in ConditionalGetMiddleware, so that it is a problem detail like every error.
            raise PreconditionFailed
        if status_asked == 304:
            raise NotModified

    @classmethod
    def prefetch_keys(cls, kwargs: dict[str, Any]) -> Sequence[str]:
        """The cache keys a request for the address with ``kwargs`` reads first (its live identity, where its
        validators follow from one): read ahead with the partner's key and rate count, in one round trip
        (``partners.admission``)."""
        identity = cls.identity_validators(kwargs)
        return identity.keys if identity is not None else ()

    def counts_ahead(self) -> Sequence[tuple[str, int]]:
        """Counters (name, window in seconds) this request counts in its admission's round trip, before its key is
        checked (``partners.admission``): the view keeps or takes back each once it has answered."""
        return ()

    def counted_ahead(self) -> frozenset[str]:
        """Which of ``counts_ahead()`` this request's admission counted (none when there was none, or the cache
        was down)."""
        request = self.request  # type: ignore[attr-defined]  # DRF's, or Django's (``answer_as_decided``)
        admission = getattr(getattr(request, "_request", request), ADMISSION, None)
        return admission.counted_ahead if isinstance(admission, Admission) else frozenset()

    @classmethod
    def admit_ahead(cls, environ: dict[str, Any], kwargs: dict[str, Any]) -> None:
        """Send this request's admission's round trip as it arrives (``partners.admission.admit_ahead``): what its
        authentication will ask: the key's row, its count and what the view reads first (``prefetch_keys``).
        Called by ``contentsite.early.read_ahead`` for a GET or HEAD with credentials."""
        admit_ahead(environ, cls.prefetch_keys(kwargs))

    @classmethod
    def not_modified_early(
        cls, view: Callable[..., Any], request: HttpRequest, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> HttpResponseBase | None:
        """The 304 for a partner's conditional GET, worked out before the middleware and without a handler;
        None: anything else (the full stack answers, and admits and counts the request no second time).

        The first time in this process for a kind of request (``_kind_of``), it is this view's own
        ``initial()`` (negotiation, versioning, the key, permissions, the rate limit, the query, the
        validators) and ``finalize_response()``: the same rules as the full stack. When the view's
        validators come from one identity of what is live (``identity_validators``) and its checks are
        the partner rules only, what that decided of the kind is kept (``_Decided``), and every later
        request of the kind, for any article, asks only what can differ: the key and rate count
        (``authenticated_key``, ``rate_limit_wait``, the rules DRF asks too) and what is live, in the
        same one round trip, with no DRF request made (a third of the CPU of a 304, profiled).
        """
        if cls.found_by_its_body:  # answered once its body is found, by the view
            return None
        identity = cls.identity_validators(kwargs)
        kind = _kind_of(cls, request, kwargs) if identity is not None else None
        decided: _Decided | None = _decided.get(kind) if kind is not None else None
        if decided is not None and identity is not None:
            return decided.not_modified(request, identity)
        instance = cls(**getattr(view, "initkwargs", {}))
        instance.setup(request, *args, **kwargs)  # type: ignore[attr-defined]
        drf_request = instance.initialize_request(request, *args, **kwargs)  # type: ignore[attr-defined]
        instance.request = drf_request  # type: ignore[attr-defined]
        instance.headers = instance.default_response_headers  # type: ignore[attr-defined]
        try:
            instance.initial(drf_request, *args, **kwargs)
        except NotModified:
            response = instance.finalize_response(drf_request, Response(status=status.HTTP_304_NOT_MODIFIED))
            response.render()
            # Kept only when the validators were made from that identity (a view with its own never is).
            made_from = instance.validators_made_from
            if kind is not None and made_from == identity and _asks_only_the_partner_rules(instance):
                found = _Decided(instance.representation(), _kept_fields(response))
                _decided.put(kind, found, found.size + _size_of_kind(kind))
            return response
        except Exception:  # refused, malformed, throttled or gone: the full stack says so
            return None
        return None

    @classmethod
    def kind_of_body(cls, request: HttpRequest, kwargs: dict[str, Any]) -> tuple[Kind, DecidedBody | None]:
        """This request's kind (``_kind_of``, and the media type and charset of its body) and what the view's 200 to
        a request of that kind decided by its shape alone, if this process has seen one (``keep_decided_body``)."""
        kind = (*_kind_of(cls, request, kwargs), request.META.get("CONTENT_TYPE"))
        found = _decided.get(kind)
        return kind, found if isinstance(found, DecidedBody) else None

    def keep_decided_body(self, kind: Kind, response: HttpResponseBase) -> None:
        """Keep what this view's ``response`` to a request of ``kind`` has that its shape alone decides
        (``DecidedBody``): only a 200 written by DRF's JSON renderer, and only from a view whose checks are the
        partner rules."""
        request = self.request  # type: ignore[attr-defined]
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code != 200 or type(renderer) is not JSONRenderer or not isinstance(response, Response):
            return
        if not _checks_only_the_partner_rules(self):
            return
        response.render()  # as the handler would next (once: it is kept rendered)
        found = DecidedBody(renderer, request.accepted_media_type, _kept_fields(response))
        _decided.put(kind, found, found.size + _size_of_kind(kind))

    @classmethod
    def identity_validators(cls, kwargs: dict[str, Any]) -> IdentityValidators | None:
        """How this view's validators follow from one identity of what is live, by its address alone; None: they
        do not (``validators()`` is the view's own) and each 304 is decided by the view's ``initial()``."""
        return None

    # Which ``identity_validators`` this request's ``validators()`` were made from, if they were.
    validators_made_from: IdentityValidators | None = None

    def validators(self) -> Validators | None:
        """The ETag and Last-Modified of this request's response, known without serialising; None: no validators.

        Checking the request (its parameters, the address being live) belongs
        here too, so a malformed or gone request is never answered 304.
        """
        return None

    @cached_property
    def conditional(self) -> Validators | None:
        return self.validators()

    def representation(self, *salt: object) -> tuple[object, ...]:
        """Everything besides the content that shapes the body: format and indent (the JSON renderers write another
        body for ``; indent=4``), query, version, the host in its URLs."""
        request = self.request  # type: ignore[attr-defined]
        renderer = getattr(request, "accepted_renderer", None)
        get_indent = getattr(renderer, "get_indent", None)
        indent = get_indent(request.accepted_media_type, {}) if get_indent is not None else None
        query = sorted(request.query_params.lists())
        host = request.build_absolute_uri("/")
        return (*salt, getattr(renderer, "format", ""), indent, query, request.version, host, API_CACHE_VERSION)

    def cached_body(self, build: Callable[[], Any]) -> Any:
        """The response data, kept in the cache under this response's ETag: a repeat costs a cache read."""
        etag = self.conditional.etag if self.conditional else None
        if etag is None:
            return build()
        key = f"api:body:{etag}"
        data = cache_get(key)
        if data is None:
            data = build()
            cache_set(key, data, settings.ARTICLE_PAGE_CACHE_SECONDS)
        if self.found_by_its_body and self.request.method in {"GET", "HEAD"}:  # type: ignore[attr-defined]
            # Found (kept under this ETag, which only a change that moves the ETag could make untrue, or built).
            self.answer_conditions(self.conditional)
        return data

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, NotModified):
            return Response(status=status.HTTP_304_NOT_MODIFIED)
        # The one read of what is live (``live_identity().require()``, ``get_live``) says "withdrawn"; the API says 410.
        if isinstance(exc, Withdrawn):
            exc = Gone()
        # Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE), met when DRF reads a body before the bounded parser can.
        if isinstance(exc, RequestDataTooBig):
            exc = RequestBodyTooLarge()
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        # The 412 too: the version the partner's If-Match did not name is the one to fetch.
        if request.method in {"GET", "HEAD"} and response.status_code in {200, 304, 412} and self._validated():
            _set_validators(response, self.conditional)  # type: ignore[arg-type]
        for name, value in rate_limit_headers(request).items():
            response[name] = value
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Accept, Authorization"
        return response

    def _validated(self) -> bool:
        # Only validators already worked out: a response that failed before them has none.
        return self.__dict__.get("conditional") is not None


class SiteListView(PartnerView):
    """A list of many things: its validators follow the site's public clock, which any public change moves."""

    list_name: str

    @classmethod
    def list_name_for(cls, kwargs: dict[str, Any]) -> str:
        """What the body lists, in the ETag."""
        return cls.list_name

    @classmethod
    def site_validators(cls, kwargs: dict[str, Any]) -> IdentityValidators:
        return IdentityValidators(None, None, cls.list_name_for(kwargs))

    @classmethod
    def identity_validators(cls, kwargs: dict[str, Any]) -> IdentityValidators | None:
        return cls.site_validators(kwargs)

    def validators(self) -> Validators | None:
        self.check_query()
        made_from = self.site_validators(self.kwargs)  # type: ignore[attr-defined]
        self.validators_made_from = made_from
        return made_from.of(self.representation())[1]

    def check_query(self) -> None:
        """Refuse a malformed query before answering 304: the cursor, the limit (and the filters, in subclasses).
        Decided by the query alone (a kind of request is decided once: ``not_modified_early``)."""
        paginator = getattr(self, "paginator", None)
        if paginator is not None:
            paginator.get_page_size(self.request)
            paginator.decode_cursor(self.request)


class LiveArticleView(PartnerView):
    """About the article at ``slug``: 410 if withdrawn, 404 if never public, from its live identity."""

    kind = ArticleKind.ARTICLE
    representation_name: str

    @classmethod
    def representation_for(cls, kwargs: dict[str, Any]) -> str:
        """What the body shows of the article, in the ETag."""
        return cls.representation_name

    @classmethod
    def live_validators(cls, kwargs: dict[str, Any]) -> IdentityValidators:
        return IdentityValidators(str(cls.kind), kwargs["slug"], cls.representation_for(kwargs))

    @classmethod
    def identity_validators(cls, kwargs: dict[str, Any]) -> IdentityValidators | None:
        return cls.live_validators(kwargs)

    @property
    def live(self) -> Live:
        return self.live_validators(self.kwargs).read()  # type: ignore[attr-defined,return-value]

    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """As a GET would be: 404 where nothing was ever published, 410 where it was withdrawn."""
        self._live = self.live  # raises; what the view finds is looked for in it (``PartnerView.options``)
        return super().options(request, *args, **kwargs)  # type: ignore[misc]

    def validators(self) -> Validators | None:
        made_from = self.live_validators(self.kwargs)  # type: ignore[attr-defined]
        self.validators_made_from = made_from
        identity, validators = made_from.of(self.representation())
        self._live: Live = identity  # type: ignore[assignment]
        return validators


# The endpoints ``/api/v1/`` lists, by the name a partner sees, and their URL names in the ``v1`` namespace.
API_ROOT_ENDPOINTS = {
    "articles": "article-list",
    "medications": "medication-list",
    "symptoms": "symptom-list",
    "changes": "change-feed",
    "lookup": "code-lookup",
    "pathways": "pathway-list",
    "schema": "schema",
    "docs": "docs",
}


# Not an operation in the schema: it answers the same links whatever is asked, so there is nothing to
# document or fuzz, and the schema and the docs it links to are the reference.
@extend_schema(exclude=True)
class ApiRoot(PartnerView, APIView):
    """``/api/v1/``: where to start, as DRF's browsable root would say it: each endpoint's absolute URL."""

    def get(self, request: Request) -> Response:
        return Response(
            {name: reverse(f"v1:{url_name}", request=request) for name, url_name in API_ROOT_ENDPOINTS.items()}
        )


class ApiDocs(SpectacularSwaggerSplitView):
    """The interactive documentation, an HTML page: GET and HEAD only.

    DRF answers OPTIONS with its metadata, which this view's only renderer (a
    template) cannot render, so OPTIONS was a 500; now it is a 405 with ``Allow``.
    """

    http_method_names = ["get", "head"]
