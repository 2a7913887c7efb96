"""The caching reverse proxy (Varnish, ``deploy/varnish/``): what it may keep, and telling it what changed.

Public pages carry surrogate keys (``xkey``) naming what they show: an article, a
medication, a symptom, or ``index`` for pages that list many articles. The proxy
keeps them for a short ``s-maxage`` while browsers always revalidate with the
app (``max-age=0``; the ETag makes that a cheap 304). When a change to what the
public sees commits, ``contentsite.invalidation`` calls ``purge(keys)``, which
asks every proxy in ``PROXY_PURGE_URLS`` to drop the pages carrying those keys.

A purge that fails is retried, then logged, never raised: the change has
committed by then. ``contentsite.invalidation`` keeps it and sends it again
until every proxy takes it; the short ``s-maxage`` bounds how long a proxy can
show the old page meanwhile. The partner API is never cached by the proxy (see
``deploy/README.md``), so nothing here tags it.
"""

from __future__ import annotations

import datetime
import http.client
import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import http_date

logger = logging.getLogger(__name__)

# The response header the proxy's xkey vmod reads, and the request header a purge sends.
SURROGATE_HEADER = "xkey"
PURGE_HEADER = "xkey-purge"
# Views set this attribute on a response to offer it to the proxy (``SurrogateKeyMiddleware``).
SURROGATE_KEYS_ATTRIBUTE = "surrogate_keys"
# The attribute on which a view says when what its page shows changes next (a scheduled publication's time).
PROXY_UNTIL_ATTRIBUTE = "proxy_until"
# When what a tagged page shows changes by itself (an HTTP date, rounded down): the VCL keeps no copy of it, stale
# ones for errors included, past then (``tag``). For the proxy only, never passed on to readers.
UNTIL_HEADER = "X-Proxy-Until"
# Home, sitemap, search and every list of articles: purged on every public change.
INDEX_KEY = "index"

# The largest request body the shipped VCL reads (whole, before an app server is asked): a larger one is its 413.
# Kept in step with deploy/varnish/default.vcl by tests/test_proxy.py; the app's own limits must fit under it
# (``articles.checks``: ARTICLE_IMPORT_MAX_BYTES; Django's DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB).
MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024

# Varnish refuses response headers over 8 KB (http_resp_hdr_len); stay well below it.
MAX_HEADER_CHARS = 4000
# Tokens only: the header is a space-separated list.
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
TAGGED_STATUSES = frozenset({200, 304, 404, 410})
# Never offered to the proxy, whatever a view says: the VCL passes them too.
PRIVATE_PATH_PREFIXES = ("/admin/", "/api/")
PURGE_ATTEMPTS = 3
PURGE_BACKOFF_SECONDS = 0.2


def article_key(article_id: int) -> str:
    """The key of every page showing this article (its page, history, a pathway linking to it)."""
    return f"article-{article_id}"


def medication_key(medication_id: int) -> str:
    """The key of every page showing this medication's details."""
    return f"medication-{medication_id}"


def symptom_key(symptom_id: int) -> str:
    """The key of every page showing this symptom's details."""
    return f"symptom-{symptom_id}"


def _unique_keys(keys: Iterable[str]) -> tuple[list[str], list[str]]:
    """The keys deduplicated, in order: those that are tokens, and those that are not (a bug in the caller)."""
    unique = list(dict.fromkeys(str(key).strip() for key in keys))
    valid = [key for key in unique if KEY_PATTERN.fullmatch(key)]
    return valid, [key for key in unique if not KEY_PATTERN.fullmatch(key)]


def lifetime(until: datetime.datetime | None) -> tuple[int, int]:
    """How long the proxy may keep a page (s-maxage) and then serve it stale while it fetches it again
    (stale-while-revalidate), in seconds: the settings', but never past ``until``, when what the page shows changes
    by itself (a scheduled publication, live from its time with no job and no purge)."""
    s_maxage, stale = settings.PROXY_PAGE_MAX_AGE, settings.PROXY_STALE_WHILE_REVALIDATE
    if until is None:
        return s_maxage, stale
    left = max(0, math.floor((until - timezone.now()).total_seconds()))
    s_maxage = min(s_maxage, left)
    return s_maxage, min(stale, left - s_maxage)


def bounded(until: datetime.datetime | None) -> bool:
    """Whether ``until`` comes soon enough to shorten a page's life in the proxy (``lifetime``): its
    Cache-Control is then worked out afresh for each response, never copied from an earlier one."""
    return lifetime(until) != lifetime(None)


def tag(
    response: HttpResponse, keys: Iterable[str], *, s_maxage: int | None = None, until: datetime.datetime | None = None
) -> HttpResponse:
    """Let the proxy keep ``response`` for ``s_maxage`` seconds under ``keys``; browsers always revalidate.

    Only for public pages that any anonymous reader gets alike: the caller (``SurrogateKeyMiddleware``)
    decides that. A response that sets a cookie is left alone, since its headers are someone's own.
    When the keys cannot be sent as given (not tokens, or too many for one header) the page is
    tagged ``index`` alone, which every public change purges: purged too often, never too seldom.
    ``until``: when what the page shows changes by itself; the proxy keeps it, stale copies included, no
    longer: ``lifetime`` bounds s-maxage and stale-while-revalidate, and ``UNTIL_HEADER`` bounds the copy kept for
    errors (stale-if-error, served only while the app fails). That one is bounded in the VCL, from a header that
    stays the same for the page's version, so that a copy of the response kept by the app (``contentsite.early``)
    stays right: a copy kept for errors past the scheduled time was the revision a clinician had scheduled to be
    replaced, served to readers while the database was down.
    """
    if response.cookies:
        return response
    valid, invalid = _unique_keys(keys)
    header = " ".join(valid)
    if invalid or len(header) > MAX_HEADER_CHARS:
        logger.warning("Surrogate keys not usable as given, tagging %r instead: %.200s", INDEX_KEY, header)
        header = INDEX_KEY
    if not header:
        return response
    response[SURROGATE_HEADER] = header
    if until is not None:
        response[UNTIL_HEADER] = http_date(math.floor(until.timestamp()))
    kept, stale = lifetime(until)
    # No ``no-cache`` and no ``private``: Varnish would refuse to keep the page at all.
    response["Cache-Control"] = (
        f"public, max-age=0, s-maxage={kept if s_maxage is None else min(s_maxage, kept)}, "
        f"stale-while-revalidate={stale}, "
        f"stale-if-error={settings.PROXY_STALE_IF_ERROR}"
    )
    return response


def _offered_to_proxy(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the response is one public page every anonymous reader would get alike."""
    if request.method not in ("GET", "HEAD") or response.status_code not in TAGGED_STATUSES:
        return False
    if request.path.startswith(PRIVATE_PATH_PREFIXES) or response.cookies:
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated)


class SurrogateKeyMiddleware:
    """Tag the public pages whose views named their surrogate keys (``response.surrogate_keys``).

    Views opt in by setting the attribute; a response without it keeps its own
    ``Cache-Control`` (usually ``no-cache``, which the proxy does not keep). It
    sits just below ``ConditionalGetMiddleware``, which then gives a 304 the same
    ``Cache-Control`` as the 200 it stands for, and above the CSRF middleware,
    whose cookie it sees. Cookies set further out (session, messages) are
    ``ProxyCookieGuardMiddleware``'s to catch.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        keys = getattr(response, SURROGATE_KEYS_ATTRIBUTE, None)
        if keys and _offered_to_proxy(request, response):
            tag(response, keys, until=getattr(response, PROXY_UNTIL_ATTRIBUTE, None))
        return response


class ProxyCookieGuardMiddleware:
    """A response that sets a cookie is never left for a shared cache, whatever was tagged below.

    Outermost of the middleware that can set cookies (sessions, messages), so it
    sees them all. The VCL refuses such responses too; this keeps any other
    shared cache on the way from keeping them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.cookies and "s-maxage" in response.get("Cache-Control", ""):
            del response[SURROGATE_HEADER]
            response["Cache-Control"] = "private, no-cache"
        return response


def _header_chunks(keys: list[str]) -> list[str]:
    """Space-separated key lists, each short enough for one request header."""
    chunks: list[str] = []
    current = ""
    for key in keys:
        if current and len(current) + 1 + len(key) > MAX_HEADER_CHARS:
            chunks.append(current)
            current = ""
        current = f"{current} {key}" if current else key
    if current:
        chunks.append(current)
    return chunks


def _send_purge(base_url: str, header: str) -> int:
    """Send one PURGE to the proxy at ``base_url``; return the HTTP status."""
    parts = urlsplit(base_url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.netloc, timeout=settings.PROXY_PURGE_TIMEOUT_SECONDS)
    try:
        connection.request("PURGE", parts.path or "/", headers={PURGE_HEADER: header})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _purge_one(base_url: str, header: str) -> bool:
    """Purge ``header``'s keys from one proxy, retrying with a short backoff; log the outcome."""
    problem = ""
    for attempt in range(1, PURGE_ATTEMPTS + 1):
        try:
            status = _send_purge(base_url, header)
        except Exception as error:  # a purge never raises: the change has committed
            problem = f"{type(error).__name__}: {error}"
        else:
            if status == 200:
                logger.info(
                    "Proxy purge: proxy %s, keys %s",
                    base_url,
                    header,
                    extra={"event": "purge", "proxy": base_url, "keys": header.split(), "result": "purged"},
                )
                return True
            problem = f"HTTP {status}"
        if attempt < PURGE_ATTEMPTS:
            time.sleep(PURGE_BACKOFF_SECONDS * attempt)
    logger.error(
        "Proxy purge failed after %d attempts (%s): proxy %s, keys %s; pages stay until their s-maxage (%ss)",
        PURGE_ATTEMPTS,
        problem,
        base_url,
        header,
        settings.PROXY_PAGE_MAX_AGE,
        extra={
            "event": "purge",
            "proxy": base_url,
            "keys": header.split(),
            "result": "failed",
            "problem": problem,
            "attempts": PURGE_ATTEMPTS,
        },
    )
    return False


def purge(keys: Iterable[str]) -> bool:
    """Ask every proxy in ``PROXY_PURGE_URLS`` to drop the pages tagged with any of ``keys`` (a hard purge).

    Call it from ``transaction.on_commit``: it touches no database, and it never
    raises. Without ``PROXY_PURGE_URLS`` (no proxy) it does nothing. Each proxy
    gets a few attempts with a short timeout (``PROXY_PURGE_TIMEOUT_SECONDS``);
    a proxy that still fails is logged at ERROR with the keys. Returns whether
    every proxy took every key: ``contentsite.invalidation`` keeps what was not
    taken and sends it again; until then the copies expire after their ``s-maxage``.
    """
    try:
        urls = list(settings.PROXY_PURGE_URLS)
        if not urls:
            return True
        valid, invalid = _unique_keys(keys)
        if invalid:
            # A bug in the caller; the pages tagged with it were tagged ``index`` instead (see ``tag``).
            logger.error("Proxy purge given keys that are not tokens, purging %r for them: %r", INDEX_KEY, invalid)
            valid = list(dict.fromkeys([*valid, INDEX_KEY]))
        # Every proxy is sent every chunk, whatever another answered.
        results = [_purge_one(base_url, header) for base_url in urls for header in _header_chunks(valid)]
        return all(results)
    except Exception:  # a purge never raises: the change has committed
        logger.exception("Proxy purge failed unexpectedly: keys %r", keys)
        return False
