"""Rate limits per partner, counted in the shared cache (Redis in production), across all its keys.

A partner's requests count against one limit whichever of its keys they carry and
whichever app server answers them: the count is one atomic Redis counter per partner
(``contentsite.cache.count_hit``), in a window that starts at the first request and
lasts the rate's period. So exactly the limit passes in a window, however many
requests arrive at once; a burst at the edge of two windows can reach twice the
limit, as with any fixed window.

While Redis is down, each process counts for itself in memory (so the limit still
holds, per process) and says so in the log, at most once a minute.

Every keyed response says where the partner stands, in the IETF fields of
draft-ietf-httpapi-ratelimit-headers-10 (structured fields, RFC 9651):
``RateLimit-Policy: "default";q=600;w=60`` (the quota and its window in seconds) and
``RateLimit: "default";r=42;t=18`` (requests left in this window, seconds until it
resets). The throttle works them out once per request (``RateLimitState``);
``rate_limit_headers`` writes them on whatever answers it: a 200, a 304, a 4xx, the 429.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from contentsite.cache import count_hit
from contentsite.outages import log_outage

from .admission import ADMISSION, Admission, FallbackCounter, RateCounter, parse_rate
from .models import PartnerAPIKey

logger = logging.getLogger(__name__)

__all__ = ["RATE_LIMIT_HEADERS", "PartnerKeyRateThrottle", "count_request", "fallback", "parse_rate", "rate_limit_wait"]
# The policy's name in the RateLimit fields: one limit per partner, whatever it asks for.
POLICY = "default"
# The fields that say where a partner stands: they differ from one response to the next.
RATE_LIMIT_HEADERS = ("RateLimit-Policy", "RateLimit")
# The policy a client address's 429 for its failed authentications names (``partners.admission``).
FAILED_AUTHENTICATION = "failed-authentication"


fallback = FallbackCounter()


@dataclass(frozen=True)
class RateLimitState:
    """Where a partner stands after this request: its quota, the window, what is left and when it resets."""

    quota: int
    window: int
    remaining: int
    reset: int
    # The policy's name: the partner's ``default``, or ``failed-authentication`` (``FAILED_AUTHENTICATION``).
    policy: str = POLICY

    @classmethod
    def counted(cls, *, limit: int, seconds: int, hits: int, left: float, policy: str = POLICY) -> RateLimitState:
        return cls(
            quota=limit, window=seconds, remaining=max(0, limit - hits), reset=max(0, math.ceil(left)), policy=policy
        )

    def headers(self) -> dict[str, str]:
        """The ``RateLimit-Policy`` and ``RateLimit`` fields (draft-ietf-httpapi-ratelimit-headers-10)."""
        policy, limit = RATE_LIMIT_HEADERS
        return {
            policy: f'"{self.policy}";q={self.quota};w={self.window}',
            limit: f'"{self.policy}";r={self.remaining};t={self.reset}',
        }


def _http_request(request: Request | HttpRequest) -> HttpRequest:
    return getattr(request, "_request", request)


def note_failed_authentication_limit(request: HttpRequest, *, limit: int, seconds: int, wait: int) -> None:
    """Note that ``request``'s address has used up its failed authentications for ``wait`` seconds: its 429 says so
    in the RateLimit fields (``rate_limit_headers``), under the ``failed-authentication`` policy."""
    request.partner_rate_limit = RateLimitState(  # type: ignore[attr-defined]
        quota=limit, window=seconds, remaining=0, reset=wait, policy=FAILED_AUTHENTICATION
    )


def rate_limit_headers(request: Request | HttpRequest) -> dict[str, str]:
    """The RateLimit fields for this request's response: empty unless the throttle counted it (a partner key) or its
    address used up its failed authentications (``note_failed_authentication_limit``)."""
    state: RateLimitState | None = getattr(_http_request(request), "partner_rate_limit", None)
    return state.headers() if state is not None else {}


def count_request(admission: Admission | None, counter: RateCounter) -> tuple[int, float]:
    """This request's hit on ``counter``: (hits in the window, seconds left).

    Counted already, as a rule, in the round trip that admitted the key (``partners.admission``);
    else counted now on the shared counter; while the cache is down, in this process.
    """
    counted = admission.count_for(counter) if admission is not None else None
    if counted is None and (admission is None or admission.cache_answered):
        counted = count_hit(counter.name, counter.seconds)
    if counted is None:
        log_outage(
            logger,
            "rate-limit-fallback",
            "Partner rate limits are counted per process while the cache is unavailable.",
        )
        counted = fallback.count_hit(counter.name, counter.seconds)
    return counted


# The attribute of the Django request that holds its count: (counter, hits, seconds left). A request is counted once,
# whichever of the early 304 and the full stack asks first; the admission counts it ahead when it can.
_COUNTED = "partner_rate_counted"


def rate_limit_wait(request: HttpRequest, key: PartnerAPIKey) -> int | None:
    """Count this request on ``key``'s partner's limit and note where the partner stands (``rate_limit_headers``);
    the seconds to wait if it is over the limit, else None.

    The one rule for a partner's rate, whether DRF asks (``PartnerKeyRateThrottle``) or a 304 decided without it
    (``contentsite.api.views.PartnerView.not_modified_early``), and the request is counted once whichever asks.
    """
    counter = RateCounter.of(key.partner_id, key.partner.rate_limit)
    counted = getattr(request, _COUNTED, None)
    if counted is not None and counted[0] == counter:  # asked before for this request (an early 304 fell through)
        hits, left = counted[1], counted[2]
    else:
        admission = getattr(request, ADMISSION, None)
        hits, left = count_request(admission if isinstance(admission, Admission) else None, counter)
        setattr(request, _COUNTED, (counter, hits, left))
    request.partner_rate_limit = RateLimitState.counted(  # type: ignore[attr-defined]
        limit=counter.limit, seconds=counter.seconds, hits=hits, left=left
    )
    return None if hits <= counter.limit else max(1, math.ceil(left))


class PartnerKeyRateThrottle(BaseThrottle):
    """A partner's own ``rate_limit``, or ``PARTNER_API_RATE``; 429 with Retry-After beyond it.

    Not a security measure: it keeps one partner from crowding out the others.
    """

    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, PartnerAPIKey):
            return True
        self.wait_seconds = rate_limit_wait(_http_request(request), key)
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds
