"""System checks for the log-in throttling settings: a value that would weaken it fails
``manage.py check`` (and so CI and every deploy) instead of quietly letting guesses through."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

MAX_FAILURE_LIMIT = 100  # NIST SP 800-63B: no more than 100 consecutive failures
MAX_COOL_OFF_MINUTES = 24 * 60
MAX_TRUSTED_PROXIES = 5
# What a lockout may be for: each user name, each address, or each pair of them.
LOCKOUT_PARAMETERS = {frozenset({"username"}), frozenset({"ip_address"}), frozenset({"username", "ip_address"})}


def _imported(path: str) -> Any:
    try:
        return import_string(path)
    except ImportError:
        return None


def _lockout_parameters_valid(parameters: Any) -> bool:
    if not isinstance(parameters, list) or not parameters:
        return False
    for item in parameters:
        names = [item] if isinstance(item, str) else item
        if not isinstance(names, list) or len(set(names)) != len(names) or frozenset(names) not in LOCKOUT_PARAMETERS:
            return False
    return True


@register(Tags.security)
def check_login_throttling(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Refuse throttling settings that count too little, forget too soon, or trust too much."""
    errors: list[CheckMessage] = []
    limit = settings.AXES_FAILURE_LIMIT
    if not isinstance(limit, int) or not 1 <= limit <= MAX_FAILURE_LIMIT:
        errors.append(
            Error(f"LOGIN_FAILURE_LIMIT must be between 1 and {MAX_FAILURE_LIMIT}; got {limit!r}.", id="logins.E001")
        )
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = cool_off.total_seconds() / 60 if isinstance(cool_off, timedelta) else None
    if minutes is None or not 1 <= minutes <= MAX_COOL_OFF_MINUTES:
        errors.append(
            Error(
                f"LOGIN_COOLOFF_MINUTES must be between 1 and {MAX_COOL_OFF_MINUTES}; got {minutes!r}.",
                hint="Zero or less would forget every failure at once, so nothing would ever be locked.",
                id="logins.E002",
            )
        )
    parameters = settings.AXES_LOCKOUT_PARAMETERS
    if not _lockout_parameters_valid(parameters):
        errors.append(
            Error(
                "LOGIN_LOCKOUT_BY must list one or more of username, ip_address, username+ip_address; "
                f"got {parameters!r}.",
                hint="A browser's user agent is the client's to choose, so it cannot be part of a lockout.",
                id="logins.E003",
            )
        )
    proxies = settings.TRUSTED_PROXY_COUNT
    if not isinstance(proxies, int) or not 0 <= proxies <= MAX_TRUSTED_PROXIES:
        errors.append(
            Error(
                f"TRUSTED_PROXY_COUNT must be between 0 and {MAX_TRUSTED_PROXIES}; got {proxies!r}.",
                hint="The number of reverse proxies in front of the app servers that append to X-Forwarded-For.",
                id="logins.E004",
            )
        )
    handler = _imported(settings.AXES_HANDLER)
    if not (isinstance(handler, type) and issubclass(handler, AxesDatabaseHandler)):
        errors.append(
            Error(
                f"AXES_HANDLER must be django-axes' database handler or a subclass; got {settings.AXES_HANDLER!r}.",
                hint="Failures must be counted where every app server sees them, never in one process's memory.",
                id="logins.E005",
            )
        )
    backends = settings.AUTHENTICATION_BACKENDS
    first = _imported(backends[0]) if backends else None
    if not (isinstance(first, type) and issubclass(first, AxesStandaloneBackend)):
        errors.append(
            Error(
                "AUTHENTICATION_BACKENDS must start with axes.backends.AxesStandaloneBackend.",
                hint="A backend before it would check passwords of locked-out users.",
                id="logins.E006",
            )
        )
    if "axes.middleware.AxesMiddleware" not in settings.MIDDLEWARE:
        errors.append(
            Error(
                "MIDDLEWARE must include axes.middleware.AxesMiddleware.",
                hint="Without it a locked-out log-in gets the form again instead of the lockout page.",
                id="logins.E007",
            )
        )
    if not str(settings.LOGIN_LOCKOUT_CONTACT).strip():
        errors.append(
            Error(
                "LOGIN_LOCKOUT_CONTACT must say whom a locked-out user should contact.",
                hint='For example "the editorial office (editorial@example.org)".',
                id="logins.E008",
            )
        )
    return errors
