"""``Authorization: Api-Key <key>`` for the partner API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import PartnerAPIKey

KEYWORD = "Api-Key"


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a partner by API key; the key object becomes ``request.auth``.

    There is no user: partners never act on content, they only read what is published.
    """

    def authenticate(self, request: Request) -> tuple[Any, PartnerAPIKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _, key = header.partition(" ")
        if keyword.lower() != KEYWORD.lower() or not key.strip():
            raise exceptions.AuthenticationFailed(f"Send your key as 'Authorization: {KEYWORD} <key>'.")
        key = key.strip()
        prefix, _, _ = key.partition(".")
        api_key = PartnerAPIKey.objects.unrevoked(prefix)
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not api_key.partner.is_active:
            raise exceptions.AuthenticationFailed("This partner's access is suspended.")
        api_key.record_use()
        return (AnonymousUser(), api_key)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when no key is sent.
        return f'{KEYWORD} realm="partner API"'
