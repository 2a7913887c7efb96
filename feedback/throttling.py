"""How often one address may send feedback: counted in the cache, never stored.

The count lives in the shared cache (Redis in production) under a key made from
an HMAC of the client's address with the site's secret key, so neither the
database nor the cache holds the address, and the key cannot be reversed by
trying every address without the secret. The counter expires with its window.
While the cache is down, each process counts in its own memory (as the partner
rate limit does, ``partners.throttling``), still under the hashed key.
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from contentsite.cache import count_hit
from contentsite.outages import log_outage
from logins.addresses import client_ip_address
from partners.throttling import FallbackCounter, parse_rate

logger = logging.getLogger(__name__)

fallback = FallbackCounter()


def address_key(request: HttpRequest) -> str:
    """The cache key counting this client's feedback: a keyed hash of its address, never the address."""
    address = client_ip_address(request) or "unknown"
    digest = salted_hmac("feedback.throttling.address", address, algorithm="sha256").hexdigest()
    return f"feedback:rate:{digest[:40]}"


def feedback_wait(request: HttpRequest) -> int | None:
    """Count one more feedback from this client: None if within ``FEEDBACK_RATE``, else seconds to wait."""
    limit, seconds = parse_rate(settings.FEEDBACK_RATE)
    key = address_key(request)
    counted = count_hit(key, seconds)
    if counted is None:
        log_outage(
            logger, "feedback-rate-fallback", "Feedback rate limits are counted per process while the cache is down."
        )
        counted = fallback.count_hit(key, seconds)
    hits, left = counted
    return None if hits <= limit else max(1, math.ceil(left))
