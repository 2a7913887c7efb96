"""Rate limits per API key, counted in the shared cache (Redis in production)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from .models import PartnerAPIKey


class PartnerKeyRateThrottle(SimpleRateThrottle):
    """A partner's own ``rate_limit``, or ``PARTNER_API_RATE``; 429 with Retry-After beyond it.

    Not a security measure: it keeps one partner from crowding out the others.
    """

    scope = "partner"

    def get_rate(self) -> str:
        return settings.PARTNER_API_RATE

    def allow_request(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, PartnerAPIKey) and request.auth.partner.rate_limit:
            self.rate = request.auth.partner.rate_limit
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, PartnerAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
