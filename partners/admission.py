"""A partner's request admitted in one cache round trip: its key, its rate count, and what the view reads first.

A keyed request needs three things from the shared cache before its view can answer:
the key's row (``PartnerAPIKey.objects.unrevoked``), one more hit on its partner's
rate counter (``partners.throttling``), and, for most views, the live identity of what
it asks for (``articles.live``). ``admit`` asks for all three in one atomic round trip
(``contentsite.cache.read_and_count``) and keeps the view's values for the rest of the
request (``contentsite.cache.keep_prefetched``).

The counter is named by the key's partner and rate, which are known only once the row
is read: this process remembers them per key prefix from the key's last request
(``_counters``; a name, never a permission). When they changed since (a new rate, say),
the hit counted on the old counter is taken back; then, as on this process's first request
with the key, the throttle counts it itself: right, at one round trip more (two after a change).
Whether the key is valid is always decided from the row just read (or the database), never from the memory.

A view may also count something ahead in the same round trip (``ahead``: the triage evaluation counts its
outcome so, ``triage.api.views.PathwayEvaluate``). Those counts are made before anything is known of the
key, so the view keeps or takes back each one itself once it has answered (``Admission.counted_ahead``).

The admission is kept on the Django request (``ADMISSION``), so that the early 304 path
(``contentsite.early``) and DRF's authentication and throttle, which may all run for one
request, admit and count it once.

Failed authentications are counted per client address (``logins.addresses.client_address``, behind
``TRUSTED_PROXY_COUNT`` proxies), on a shared counter named by a keyed hash of the address (``FailureCounter``),
read in the same round trip and counted only when a key is refused. Past ``PARTNER_API_FAILED_AUTH_RATE`` the
address's refusals are a 429 (``Admission.throttled``), and a key it sends that the cache does not hold is looked
up in the database only if its prefix is known (``known_key_cache_key``, noted in the cache whenever a key is found;
else ``known_prefixes``, this process's copy of the keys' prefixes, for what the cache lost): a made-up key costs no
query. A valid key is decided as always: never refused, nor asked one more round trip, for
anyone's failures. While the cache is down, each process counts for itself (``failures_fallback``) and asks the
database.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from contentsite.cache import count_hit, decoded_once, keep_prefetched, read_and_count, read_and_count_ahead
from contentsite.outages import log_outage
from logins.addresses import client_address

from .models import PartnerAPIKey, key_cache_key, known_key_cache_key

logger = logging.getLogger(__name__)

KEYWORD = "Api-Key"
# The attribute of the Django request that holds its ``Admission``.
ADMISSION = "partner_admission"

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@functools.lru_cache(maxsize=64)
def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/minute"`` -> (600, 60): requests per period in seconds (DRF's notation: s, m, h, d)."""
    number, _, period = rate.partition("/")
    return int(number), PERIODS[period[:1]]


class FallbackCounter:
    """Hits per key in fixed windows, in this process's memory: a shared counter's stand-in while Redis is down."""

    # Expired windows are dropped once this many keys are held.
    PRUNE_ABOVE = 10_000

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def count_hit(self, key: str, seconds: int) -> tuple[int, float]:
        """One more hit on ``key``: (hits in its window, seconds left), as ``contentsite.cache.count_hit``."""
        now = time.monotonic()
        with self._lock:
            ends, hits = self._windows.get(key, (0.0, 0))
            if ends <= now:
                ends, hits = now + seconds, 0
            self._windows[key] = (ends, hits + 1)
            if len(self._windows) > self.PRUNE_ABOVE:
                self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
        return hits + 1, ends - now

    def hits(self, key: str) -> int:
        """The hits on ``key`` in its current window, without counting one."""
        with self._lock:
            ends, hits = self._windows.get(key, (0.0, 0))
        return hits if ends > time.monotonic() else 0

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


# Failed authentications per address while the cache is down.
failures_fallback = FallbackCounter()


@dataclass(frozen=True)
class FailureCounter:
    """The failed authentications of one client address: the shared counter, and the limit it is held to."""

    name: str
    limit: int
    seconds: int

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> FailureCounter:
        """The counter of the client address of the request with ``meta`` (its ``META``, or its WSGI environ)."""
        limit, seconds = parse_rate(settings.PARTNER_API_FAILED_AUTH_RATE)
        return cls(_failure_counter_name(client_address(meta) or "unknown", settings.SECRET_KEY), limit, seconds)


@functools.lru_cache(maxsize=4096)
def _failure_counter_name(address: str, secret: str) -> str:
    """A keyed hash of the address (never the address: as ``feedback.throttling``), once per address and process."""
    digest = salted_hmac("partners.admission.failures", address, secret=secret, algorithm="sha256").hexdigest()
    return f"throttle:failed-authentication:{digest[:40]}"


@dataclass(frozen=True)
class RateCounter:
    """One partner's rate limit and the shared counter its requests count on."""

    name: str
    limit: int
    seconds: int

    @classmethod
    def of(cls, partner_id: int, rate: str) -> RateCounter:
        limit, seconds = parse_rate(rate or settings.PARTNER_API_RATE)
        return cls(f"throttle:partner:{partner_id}:{limit}/{seconds}", limit, seconds)


@dataclass(frozen=True)
class Admission:
    """What ``admit`` found: the key (or why it is refused) and the hit counted on its partner's counter."""

    header: str
    api_key: PartnerAPIKey | None
    # Why the key is refused (the 401's message), or None.
    problem: str | None
    # The counter the hit was counted on and (hits in the window, seconds left); None: not counted here.
    counter: RateCounter | None = None
    counted: tuple[int, float] | None = None
    # False: the cache did not answer (count in this process; do not wait on the cache again).
    cache_answered: bool = True
    # The view's counters counted in the same round trip (``counted_ahead``), whatever the key turned out to be.
    counted_ahead: frozenset[str] = frozenset()
    # Refused past the address's limit of failed authentications: (the counter, seconds to wait); None: not throttled.
    throttled: tuple[FailureCounter, int] | None = None

    def count_for(self, counter: RateCounter) -> tuple[int, float] | None:
        """The hit already counted on ``counter`` for this request, if it was."""
        return self.counted if self.counter == counter else None


# A key's row, read with its partner in the admission's round trip, is the same bytes on every request until the key
# or its partner changes: unpickled once per process (``decoded_once``), since the two model instances cost a tenth of
# a partner's 304 each time (profiled). Nothing changes a key read so (the admission checks it, the throttle and the
# request's log line read it); a change is made to one read from the database, and drops the cached row
# (``partners.signals``, ``partners.services``), whose next bytes differ.
decoded_once(PartnerAPIKey)

# Per process: the counter each key prefix counted on last time (partner and rate), to name it ahead.
_counters: dict[str, RateCounter] = {}
_MAX_REMEMBERED = 10_000


def admission_of(
    request: HttpRequest, header: str, prefetch: Sequence[str] = (), ahead: Sequence[tuple[str, int]] = ()
) -> Admission:
    """This request's admission: the one already made for it (same header), else ``admit`` now and keep it."""
    found = getattr(request, ADMISSION, None)
    if isinstance(found, Admission) and found.header == header:
        return found
    admission = admit(header, prefetch, ahead, failures=FailureCounter.of(request.META))
    setattr(request, ADMISSION, admission)
    return admission


def admit(
    header: str,
    prefetch: Sequence[str] = (),
    ahead: Sequence[tuple[str, int]] = (),
    *,
    failures: FailureCounter | None = None,
) -> Admission:
    """Check ``Authorization: Api-Key <key>``, count the hit, read ``prefetch`` and count ``ahead`` (the view's
    counters, name and window in seconds): one round trip. What ``ahead`` counted is the view's to keep or take
    back, whatever the key turns out to be (``Admission.counted_ahead``). A refused key counts on ``failures``, the
    client address's failed authentications, read in the same round trip (the module's docstring)."""
    key = _key_in(header)
    if key is None:
        return Admission(header, None, f"Send your key as 'Authorization: {KEYWORD} <key>'.")
    prefix, _, _ = key.partition(".")
    row_key = key_cache_key(prefix)
    counter = _counters.get(prefix)  # read once: another thread may name it meanwhile
    values, counts, answered = read_and_count(*_asked(prefix, counter, prefetch, ahead, failures))
    counted, ahead_counts = (counts[0], counts[1:]) if counter else (None, counts)
    counted_ahead = frozenset(name for (name, _), count in zip(ahead, ahead_counts, strict=True) if count is not None)
    failures_read = values.pop(failures.name, None) if failures else None
    keep_prefetched({name: value for name, value in values.items() if name != row_key})
    cached = values.get(row_key, False)
    over = failures is not None and _over_the_limit(failures, failures_read, answered)
    if over and answered and not isinstance(cached, PartnerAPIKey) and not _known(prefix):
        api_key = None  # made up, as far as the cache knows: not asked of the database
    else:
        api_key = PartnerAPIKey.objects.unrevoked(prefix, cached=cached)
    problem = _problem(api_key, key)
    if problem is not None or api_key is None:
        if counter is not None and counted is not None:
            _uncount(counter)  # a wrong key never uses up a partner's requests
        throttled = _count_failure(failures, answered) if failures is not None else None
        return Admission(
            header, None, problem, cache_answered=answered, counted_ahead=counted_ahead, throttled=throttled
        )
    actual = RateCounter.of(api_key.partner_id, api_key.partner.rate_limit)
    if actual != counter:
        if counter is not None and counted is not None:
            _uncount(counter)  # counted on the rate it had: taken back, or changed back it would hold this hit
        if len(_counters) >= _MAX_REMEMBERED:
            _counters.clear()
        _counters[prefix] = actual
        counted = None  # not counted on this counter: the throttle counts
    return Admission(header, api_key, None, actual, counted, answered, counted_ahead)


def admit_ahead(meta: Mapping[str, Any], prefetch: Sequence[str] = ()) -> None:
    """Send what ``admit`` will ask of the cache for the request with ``meta`` (its WSGI environ, as it arrives) and
    ``prefetch``, without waiting for the reply: ``admit`` takes it (``contentsite.cache.read_and_count_ahead``), so
    that the process does not sleep through the round trip (``contentsite.early.read_ahead``). The hit is counted
    now; if the request is never admitted (refused before its key is checked), it is taken back by its end."""
    key = _key_in(meta.get("HTTP_AUTHORIZATION", ""))
    if key is not None:
        prefix, _, _ = key.partition(".")
        read_and_count_ahead(*_asked(prefix, _counters.get(prefix), prefetch, (), FailureCounter.of(meta)))


def _key_in(header: str) -> str | None:
    """The key ``Authorization: Api-Key <key>`` sends, if it is written so."""
    keyword, _, key = header.partition(" ")
    key = key.strip()
    return key if keyword.lower() == KEYWORD.lower() and key else None


def _asked(
    prefix: str,
    counter: RateCounter | None,
    prefetch: Sequence[str],
    ahead: Sequence[tuple[str, int]],
    failures: FailureCounter | None,
) -> tuple[list[str], list[tuple[str, int]]]:
    """What the admission of a key with ``prefix`` reads and counts (``read_and_count``): the key's row, the address's
    failures, ``prefetch``; ``counter``, the one the key counted on last time in this process, and ``ahead``."""
    return (
        [key_cache_key(prefix), *([failures.name] if failures else []), *prefetch],
        [*([(counter.name, counter.seconds)] if counter else []), *ahead],
    )


def _problem(api_key: PartnerAPIKey | None, key: str) -> str | None:
    if api_key is None or not api_key.is_valid(key):
        return "Unknown or revoked API key."
    if api_key.has_expired:
        return "This API key has expired."
    if not api_key.partner.is_active:
        return "This partner's access is suspended."
    return None


def _over_the_limit(failures: FailureCounter, read: object, answered: bool) -> bool:
    """Whether the address has used up its failed authentications (as read with the key; in this process's memory
    while the cache is down)."""
    hits = read if answered else failures_fallback.hits(failures.name)
    return isinstance(hits, int) and hits >= failures.limit


class KnownPrefixes:
    """The prefixes of the unrevoked keys as this process last read them from the database, read again when asked
    of a prefix it does not hold, at most once every ``REFRESH_SECONDS``: what the cache's notes of the keys that
    exist (``known_key_cache_key``) stand for when it lost them (a full Redis evicting, a restart or a flush)."""

    REFRESH_SECONDS = 10.0

    def __init__(self) -> None:
        self._prefixes: frozenset[str] = frozenset()
        self._read_at: float | None = None

    def __contains__(self, prefix: object) -> bool:
        if prefix in self._prefixes:
            return True
        if self._read_at is not None and time.monotonic() - self._read_at < self.REFRESH_SECONDS:
            return False
        self._read_at = time.monotonic()
        try:
            # Inside a transaction, a savepoint: a failure here leaves the transaction usable.
            with transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext():
                self._prefixes = PartnerAPIKey.objects.unrevoked_prefixes()
        except (OperationalError, InterfaceError) as error:  # the database down: known as before, refused as before
            log_outage(logger, "database", "Could not read the partner keys' prefixes (%s).", error)
        return prefix in self._prefixes

    def clear(self) -> None:
        self._prefixes, self._read_at = frozenset(), None


known_prefixes = KnownPrefixes()


def _known(prefix: str) -> bool:
    """Whether a key with ``prefix`` exists, as the cache notes it (``known_key_cache_key``) or, when the cache has
    no note (evicted when full, lost by a restart, or never made), as this process last read the keys
    (``known_prefixes``): then the database is asked. Before, a valid key whose note the cache had lost was refused
    at an address past its failed authentications for as long as the address went on failing. A key made up costs
    no query, but one read of the prefixes every ``KnownPrefixes.REFRESH_SECONDS`` at most."""
    try:
        if cache.get(known_key_cache_key(prefix)) is not None:
            return True
    except Exception:  # a cache outage: asked of the database, as for anyone
        return True
    return prefix in known_prefixes


def _count_failure(failures: FailureCounter, answered: bool) -> tuple[FailureCounter, int] | None:
    """Count one more failed authentication of the address: (the counter, seconds to wait) past its limit, else None.
    In this process's memory while the cache is down (or did not answer the admission: not waited on again)."""
    counted = count_hit(failures.name, failures.seconds) if answered else None
    if counted is None:
        log_outage(
            logger,
            "failed-authentication-fallback",
            "Failed partner authentications are counted per process while the cache is unavailable.",
        )
        counted = failures_fallback.count_hit(failures.name, failures.seconds)
    hits, left = counted
    return (failures, max(1, math.ceil(left))) if hits > failures.limit else None


def _uncount(counter: RateCounter) -> None:
    with contextlib.suppress(ValueError):  # gone (expired) or the cache is down: nothing to take back
        cache.decr(counter.name)


def forget_counters() -> None:
    """Forget the counters this process named ahead, the failures it counted while the cache was down and the keys'
    prefixes it read (tests)."""
    _counters.clear()
    failures_fallback.clear()
    known_prefixes.clear()
