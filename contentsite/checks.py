"""System checks for the project's own settings: a bad value fails ``manage.py check`` (and so CI
and every deploy) instead of quietly turning the proxy's purges or caching off."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

MAX_PURGE_TIMEOUT_SECONDS = 30


def _purge_url_problem(url: Any) -> str:
    """What is wrong with one proxy base URL, or "" when it will do."""
    if not isinstance(url, str):
        return "is not a string"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return str(error)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be http:// or https:// with a host"
    if parts.query or parts.fragment or (port is not None and not 0 < port < 65536):
        return "must be a base URL (no query, no fragment)"
    return ""


def _whole_number_error(name: str, value: Any, minimum: int, check_id: str, maximum: int | None = None) -> list[Error]:
    whole = isinstance(value, int) and not isinstance(value, bool)
    if whole and value >= minimum and (maximum is None or value <= maximum):
        return []
    bounds = f"between {minimum} and {maximum}" if maximum is not None else f"a whole number of at least {minimum}"
    return [Error(f"{name} must be {bounds} (seconds); got {value!r}.", id=check_id)]


@register()
def check_proxy_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Refuse proxy settings that would send purges nowhere, wait forever, or cache for negative times."""
    errors: list[CheckMessage] = []
    urls = settings.PROXY_PURGE_URLS
    if not isinstance(urls, list | tuple):
        errors.append(Error(f"PROXY_PURGE_URLS must be a list; got {urls!r}.", id="contentsite.E001"))
        urls = []
    for url in urls:
        problem = _purge_url_problem(url)
        if problem:
            errors.append(
                Error(
                    f"PROXY_PURGE_URLS: {url!r} {problem}.",
                    hint="A comma-separated list of proxy base URLs, e.g. http://127.0.0.1:6081",
                    id="contentsite.E001",
                )
            )
    errors += _whole_number_error(
        "PROXY_PURGE_TIMEOUT_SECONDS",
        settings.PROXY_PURGE_TIMEOUT_SECONDS,
        1,
        "contentsite.E002",
        maximum=MAX_PURGE_TIMEOUT_SECONDS,
    )
    errors += _whole_number_error("PROXY_PAGE_MAX_AGE", settings.PROXY_PAGE_MAX_AGE, 0, "contentsite.E003")
    errors += _whole_number_error(
        "PROXY_STALE_WHILE_REVALIDATE", settings.PROXY_STALE_WHILE_REVALIDATE, 0, "contentsite.E004"
    )
    errors += _whole_number_error("PROXY_STALE_IF_ERROR", settings.PROXY_STALE_IF_ERROR, 0, "contentsite.E005")
    return errors


# --- Outages (contentsite.cache, contentsite.middleware.DatabaseUnavailableMiddleware) ----------

MAX_REDIS_TIMEOUT_MS = 10_000


@register()
def check_outage_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Refuse Redis timeouts that would stall every request while Redis is down (or fail it while it is up),
    and a Retry-After for database outages that is not a sensible number of seconds."""
    errors: list[CheckMessage] = []
    for name, check_id in (
        ("REDIS_CONNECT_TIMEOUT_MS", "contentsite.E020"),
        ("REDIS_SOCKET_TIMEOUT_MS", "contentsite.E021"),
    ):
        value = getattr(settings, name)
        if not (isinstance(value, int) and not isinstance(value, bool) and 10 <= value <= MAX_REDIS_TIMEOUT_MS):
            errors.append(
                Error(
                    f"{name} must be between 10 and {MAX_REDIS_TIMEOUT_MS} (milliseconds); got {value!r}.",
                    hint="Each cache call waits at most this long for Redis before it counts as a miss.",
                    id=check_id,
                )
            )
    errors += _whole_number_error(
        "OUTAGE_RETRY_AFTER_SECONDS", settings.OUTAGE_RETRY_AFTER_SECONDS, 1, "contentsite.E022", maximum=3600
    )
    return errors
