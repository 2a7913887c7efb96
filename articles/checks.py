"""Start-up checks of the settings this app reads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from contentsite.proxy import MAX_REQUEST_BODY_BYTES

POSITIVE_SECONDS = ("ARTICLE_PAGE_CACHE_SECONDS", "LIVE_POINTER_SECONDS")


def check_cache_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Cache lifetimes are whole numbers of seconds above zero."""
    return [
        checks.Error(
            f"{name} must be a whole number of seconds above zero (it is {getattr(settings, name)!r}).",
            id="articles.E101",
        )
        for name in POSITIVE_SECONDS
        if not isinstance(getattr(settings, name), int) or getattr(settings, name) < 1
    ]


# An import file comes in a form, with its other fields: room for them under what the shipped proxy reads of a body.
MAX_IMPORT_BYTES = MAX_REQUEST_BODY_BYTES - 64 * 1024
ATTRIBUTION_SETTINGS = ("PARTNER_CONTENT_ATTRIBUTION", "PARTNER_CONTENT_LICENCE")


def check_content_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The import limit is a sane size; every article the API serves carries an attribution and a licence."""
    errors: list[checks.CheckMessage] = []
    limit = settings.ARTICLE_IMPORT_MAX_BYTES
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_IMPORT_BYTES:
        errors.append(
            checks.Error(
                f"ARTICLE_IMPORT_MAX_BYTES must be between 1 and {MAX_IMPORT_BYTES} (bytes), so that an import's form"
                f" fits under what the shipped proxy reads of a request (deploy/varnish/default.vcl); got {limit!r}.",
                id="articles.E102",
            )
        )
    errors += [
        checks.Error(f"{name} must not be empty: partners show it with every article.", id="articles.E103")
        for name in ATTRIBUTION_SETTINGS
        if not isinstance(getattr(settings, name), str) or not getattr(settings, name).strip()
    ]
    url = settings.PARTNER_CONTENT_LICENCE_URL
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors.append(
                checks.Error(
                    f"PARTNER_CONTENT_LICENCE_URL must be empty or an http(s) URL; got {url!r}.", id="articles.E104"
                )
            )
    return errors
