"""The client's address, as far as our own reverse proxies vouch for it."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip_address(request: HttpRequest) -> str | None:
    """The address the client connected from, behind ``TRUSTED_PROXY_COUNT`` proxies.

    Each proxy appends the address it was connected from to ``X-Forwarded-For``, so
    behind N proxies the N-th entry from the right is the one our outermost proxy wrote;
    anything to its left came from the client and proves nothing. A header that is
    missing, too short or not an address means the request did not come through the
    proxies as configured: then only the connecting address is believed, which can
    lock out more than one client, never fewer.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(entries) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-proxies]))
    except ValueError:
        return remote
