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
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from contentsite.cache import keep_prefetched, read_and_count

from .models import PartnerAPIKey, key_cache_key

KEYWORD = "Api-Key"
# The attribute of the Django request that holds its ``Admission``.
ADMISSION = "partner_admission"

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/minute"`` -> (600, 60): requests per period in seconds (DRF's notation: s, m, h, d)."""
    number, _, period = rate.partition("/")
    return int(number), PERIODS[period[:1]]


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

    def count_for(self, counter: RateCounter) -> tuple[int, float] | None:
        """The hit already counted on ``counter`` for this request, if it was."""
        return self.counted if self.counter == counter else None


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
    admission = admit(header, prefetch, ahead)
    setattr(request, ADMISSION, admission)
    return admission


def admit(header: str, prefetch: Sequence[str] = (), ahead: Sequence[tuple[str, int]] = ()) -> Admission:
    """Check ``Authorization: Api-Key <key>``, count the hit, read ``prefetch`` and count ``ahead`` (the view's
    counters, name and window in seconds): one round trip. What ``ahead`` counted is the view's to keep or take
    back, whatever the key turns out to be (``Admission.counted_ahead``)."""
    keyword, _, key = header.partition(" ")
    key = key.strip()
    if keyword.lower() != KEYWORD.lower() or not key:
        return Admission(header, None, f"Send your key as 'Authorization: {KEYWORD} <key>'.")
    prefix, _, _ = key.partition(".")
    row_key = key_cache_key(prefix)
    counter = _counters.get(prefix)
    values, counts, answered = read_and_count(
        [row_key, *prefetch], [*([(counter.name, counter.seconds)] if counter else []), *ahead]
    )
    counted, ahead_counts = (counts[0], counts[1:]) if counter else (None, counts)
    counted_ahead = frozenset(name for (name, _), count in zip(ahead, ahead_counts, strict=True) if count is not None)
    keep_prefetched({name: value for name, value in values.items() if name != row_key})
    api_key = PartnerAPIKey.objects.unrevoked(prefix, cached=values.get(row_key, False))
    problem = _problem(api_key, key)
    if problem is not None or api_key is None:
        if counter is not None and counted is not None:
            _uncount(counter)  # a wrong key never uses up a partner's requests
        return Admission(header, None, problem, cache_answered=answered, counted_ahead=counted_ahead)
    actual = RateCounter.of(api_key.partner_id, api_key.partner.rate_limit)
    if actual != counter:
        if counter is not None and counted is not None:
            _uncount(counter)  # counted on the rate it had: taken back, or changed back it would hold this hit
        if len(_counters) >= _MAX_REMEMBERED:
            _counters.clear()
        _counters[prefix] = actual
        counted = None  # not counted on this counter: the throttle counts
    return Admission(header, api_key, None, actual, counted, answered, counted_ahead)


def _problem(api_key: PartnerAPIKey | None, key: str) -> str | None:
    if api_key is None or not api_key.is_valid(key):
        return "Unknown or revoked API key."
    if api_key.has_expired:
        return "This API key has expired."
    if not api_key.partner.is_active:
        return "This partner's access is suspended."
    return None


def _uncount(counter: RateCounter) -> None:
    with contextlib.suppress(ValueError):  # gone (expired) or the cache is down: nothing to take back
        cache.decr(counter.name)


def forget_counters() -> None:
    """Forget the counters this process named ahead (tests)."""
    _counters.clear()
