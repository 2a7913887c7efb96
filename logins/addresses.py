"""The client's address, as far as our own reverse proxies vouch for it."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from contentsite.outages import log_outage

logger = logging.getLogger(__name__)


def client_ip_address(request: HttpRequest) -> str | None:
    """The address the client of ``request`` connected from (``client_address``)."""
    return client_address(request.META)


def client_address(meta: Mapping[str, Any]) -> str | None:
    """The address the client connected from, behind ``TRUSTED_PROXY_COUNT`` proxies, by a request's ``META`` (or
    the WSGI environ it is made from).

    Each proxy appends the address it was connected from to ``X-Forwarded-For``, so
    behind N proxies the N-th entry from the right is the one our outermost proxy wrote;
    anything to its left came from the client and proves nothing. A header that is
    missing, too short or not an address means the request did not come through the
    proxies as configured: then only the connecting address is believed, which can
    lock out more than one client, never fewer.
    """
    remote = meta.get("REMOTE_ADDR") or None
    forwarded_for = meta.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        if forwarded_for:
            # Loud, because behind a proxy every client would share its address: one
            # person's failures would lock everyone out. Once a minute per process: every
            # partner request asks (``partners.admission``), not a log-in now and then.
            log_outage(
                logger,
                "untrusted-forwarded-for",
                "X-Forwarded-For ignored for log-in and partner-key throttling: TRUSTED_PROXY_COUNT is 0, so the "
                "client is taken to be %s. Behind reverse proxies, set TRUSTED_PROXY_COUNT to their number.",
                remote,
            )
        return remote
    if not forwarded_for:  # missing: not through the proxies (said at once, not by failing to read "" as an address)
        return remote
    entries = [entry.strip() for entry in forwarded_for.split(",")]
    if len(entries) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-proxies]))
    except ValueError:
        return remote
