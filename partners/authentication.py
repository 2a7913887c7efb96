"""``Authorization: Api-Key <key>`` for the partner API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .admission import KEYWORD, admission_of
from .models import PartnerAPIKey
from .throttling import note_failed_authentication_limit

__all__ = ["KEYWORD", "PartnerKeyAuthentication", "authenticated_key"]


def authenticated_key(
    request: HttpRequest, header: str, prefetch: Sequence[str] = (), ahead: Sequence[tuple[str, int]] = ()
) -> PartnerAPIKey:
    """The partner key ``header`` carries, checked (``partners.admission``: the key, its rate count, ``prefetch`` read
    and ``ahead`` counted, in one round trip), its use noted and the key named on ``request``;
    ``AuthenticationFailed`` (401) if it is refused, ``Throttled`` (429, with ``Retry-After``) if it is refused past its
    client address's limit of failed authentications (``partners.admission``).

    The one rule for a partner's key, whether DRF asks (``PartnerKeyAuthentication``) or a request is answered
    without a DRF request (a decided 304, ``contentsite.api.views.PartnerView.not_modified_early``; a decided
    evaluation, ``triage.api.views.PathwayEvaluate.answer_as_decided``).
    """
    admission = admission_of(request, header, prefetch, ahead)
    if admission.api_key is None:
        if admission.throttled is not None:
            failures, wait = admission.throttled
            note_failed_authentication_limit(request, limit=failures.limit, seconds=failures.seconds, wait=wait)
            raise exceptions.Throttled(
                wait, f"Too many failed authentications from this address: {admission.problem} Try again later."
            )
        raise exceptions.AuthenticationFailed(admission.problem)
    admission.api_key.record_use()
    # As DRF's ``Request.auth`` does for its requests: what names the partner in the request's log line, whichever
    # path answered it (a 304 or an evaluation decided without a DRF request too).
    request.auth = admission.api_key  # type: ignore[attr-defined]
    return admission.api_key


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a partner by API key; the key object becomes ``request.auth``.

    There is no user: partners never act on content, they only read what is published.
    The key is checked by ``partners.admission``, in the same cache round trip that counts
    the request against its partner's rate limit and reads what the view reads first
    (the view's ``prefetch_keys(kwargs)``, if it has one) and counts what the view counts ahead
    (its ``counts_ahead()``, if it has one).
    """

    def authenticate(self, request: Request) -> tuple[Any, PartnerAPIKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        view = (request.parser_context or {}).get("view")
        prefetch = view.prefetch_keys(view.kwargs) if hasattr(view, "prefetch_keys") else ()
        ahead = view.counts_ahead() if hasattr(view, "counts_ahead") else ()
        return (AnonymousUser(), authenticated_key(request._request, header, prefetch, ahead))

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when no key is sent.
        return f'{KEYWORD} realm="partner API"'
