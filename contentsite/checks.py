"""System checks for the project's own settings: a bad value fails ``manage.py check`` (and so CI
and every deploy) instead of quietly turning the proxy's purges or caching off."""

from __future__ import annotations

import re
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.checks import CheckMessage, Error, Info, Warning, register
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# The shipped Varnish configuration, whose outage page (every app server down) says what the settings say.
SHIPPED_VCL = Path(__file__).resolve().parent.parent / "deploy" / "varnish" / "default.vcl"
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
    and a Retry-After for database outages or a wait before asking Redis again that is not a sensible number of
    seconds."""
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
    errors += _whole_number_error(
        "REDIS_RETRY_AFTER_SECONDS", settings.REDIS_RETRY_AFTER_SECONDS, 1, "contentsite.E023", maximum=300
    )
    # libpq waits at least 2 seconds whatever it is asked.
    errors += _whole_number_error(
        "DATABASE_CONNECT_TIMEOUT_SECONDS", settings.DATABASE_CONNECT_TIMEOUT_SECONDS, 2, "contentsite.E024", maximum=60
    )
    tcp_user_timeout = settings.DATABASE_TCP_USER_TIMEOUT_MS
    if not (isinstance(tcp_user_timeout, int) and not isinstance(tcp_user_timeout, bool)) or not (
        1000 <= tcp_user_timeout <= 60_000
    ):
        errors.append(
            Error(
                "DATABASE_TCP_USER_TIMEOUT_MS must be between 1000 and 60000 (milliseconds); "
                f"got {tcp_user_timeout!r}.",
                hint="A request waits at most this long for PostgreSQL to acknowledge what it sent, then answers 503. "
                "Keep it well under gunicorn's worker timeout, and above your network's worst round trip.",
                id="contentsite.E025",
            )
        )
    return errors


# --- The site's own settings (every variable contentsite/settings/ reads; logins.checks, articles.checks,
# partners.checks and triage.checks check those their apps read) ----------------------------------------

MAX_CONN_MAX_AGE_SECONDS = 3600
MAX_LOCK_TIMEOUT_MS = 600_000
MAX_HSTS_SECONDS = 2 * 31_536_000
MAX_SITE_NAME_LENGTH = 100
MAX_CACHE_KEY_PREFIX_LENGTH = 100
REDIS_SCHEMES = ("redis", "rediss", "unix")
# Django's PostgreSQL backend, and ours (``contentsite.postgresql``: the settings choose it for PostgreSQL).
POSTGRESQL_ENGINES = ("django.db.backends.postgresql", "contentsite.postgresql")


# What a partner's request must still pass, whatever else PARTNER_API_MIDDLEWARE leaves out: a lost lock race
# is a 409 and a database outage a 503, never a 500 (``contentsite.middleware``).
PARTNER_API_REQUIRED_MIDDLEWARE = (
    "contentsite.middleware.LockConflictMiddleware",
    "contentsite.middleware.DatabaseUnavailableMiddleware",
)


@register()
def check_partner_api_middleware(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """``PARTNER_API_MIDDLEWARE`` (the partner API's own list, ``contentsite.early``) keeps what partners rely on."""
    chain = getattr(settings, "PARTNER_API_MIDDLEWARE", None)
    if not isinstance(chain, list | tuple):
        return [Error(f"PARTNER_API_MIDDLEWARE must be a list; got {chain!r}.", id="contentsite.E040")]
    return [
        Error(
            f"PARTNER_API_MIDDLEWARE must include {name}: without it a partner gets a 500 where a 409 or 503 is due.",
            id="contentsite.E040",
        )
        for name in PARTNER_API_REQUIRED_MIDDLEWARE
        if name not in chain
    ]


def _base_url_problem(url: Any) -> str:
    """What is wrong with a site's base URL (scheme and host, no path), or "" when it will do."""
    problem = _purge_url_problem(url)
    if problem:
        return problem
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.username or parts.password:
        return "must be a scheme and host only (no path, no user)"
    return ""


@register()
def check_site_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Refuse site settings that would write broken links, hold connections or locks absurdly long, or mislabel."""
    errors: list[CheckMessage] = []
    problem = _base_url_problem(settings.PUBLIC_BASE_URL)
    if problem:
        errors.append(
            Error(
                f"PUBLIC_BASE_URL {settings.PUBLIC_BASE_URL!r} {problem}.",
                hint="The address readers use, e.g. https://medsafety.example.org",
                id="contentsite.E006",
            )
        )
    for origin in settings.CSRF_TRUSTED_ORIGINS:
        problem = _base_url_problem(origin)
        if problem:
            errors.append(Error(f"CSRF_TRUSTED_ORIGINS: {origin!r} {problem}.", id="contentsite.E008"))
    age = settings.DATABASES["default"].get("CONN_MAX_AGE", 0)
    if age is not None and not (isinstance(age, int) and 0 <= age <= MAX_CONN_MAX_AGE_SECONDS):
        errors.append(
            Error(
                f"CONN_MAX_AGE must be between 0 and {MAX_CONN_MAX_AGE_SECONDS} (seconds); got {age!r}.",
                id="contentsite.E009",
            )
        )
    errors += _whole_number_error(
        "DATABASE_LOCK_TIMEOUT_MS",
        settings.DATABASE_LOCK_TIMEOUT_MS,
        100,
        "contentsite.E010",
        maximum=MAX_LOCK_TIMEOUT_MS,
    )
    errors += _cache_errors()
    name = settings.SITE_NAME
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_SITE_NAME_LENGTH:
        errors.append(
            Error(f"SITE_NAME must be 1 to {MAX_SITE_NAME_LENGTH} characters; got {name!r}.", id="contentsite.E013")
        )
    errors += _whole_number_error(
        "SECURE_HSTS_SECONDS", settings.SECURE_HSTS_SECONDS, 0, "contentsite.E014", maximum=MAX_HSTS_SECONDS
    )
    return errors


def _cache_errors() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    url = settings.REDIS_URL
    if url:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as error:
            problem = str(error)
        else:
            problem = "" if parts.scheme in REDIS_SCHEMES and (parts.hostname or parts.path) else "is not a Redis URL"
        if problem:
            errors.append(
                Error(f"REDIS_URL {url!r} {problem}.", hint="e.g. redis://127.0.0.1:6379/0", id="contentsite.E011")
            )
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    if (
        not isinstance(prefix, str)
        or len(prefix) > MAX_CACHE_KEY_PREFIX_LENGTH
        or not prefix.isprintable()
        or " " in prefix
    ):
        errors.append(
            Error(
                f"CACHE_KEY_PREFIX must be at most {MAX_CACHE_KEY_PREFIX_LENGTH} printable characters without spaces; "
                f"got {prefix!r}.",
                id="contentsite.E012",
            )
        )
    return errors


MAX_EMAIL_TIMEOUT_SECONDS = 60
LOCAL_MAIL_HOSTS = ("localhost", "127.0.0.1", "::1")


@register()
def check_email_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The workflow emails' settings: a bad one would lose every "it is your turn" email quietly."""
    errors: list[CheckMessage] = []
    host = settings.EMAIL_HOST
    if not isinstance(host, str) or not host.strip() or (any(c in host for c in "/:@ ") and host != "::1"):
        errors.append(
            Error(
                f"EMAIL_HOST must be the mail server's host name; got {host!r}.",
                hint="e.g. smtp.example.org, or localhost",
                id="contentsite.E030",
            )
        )
    port = settings.EMAIL_PORT
    if not (isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536):
        errors.append(Error(f"EMAIL_PORT must be between 1 and 65535; got {port!r}.", id="contentsite.E031"))
    user, password = settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD
    if not isinstance(user, str) or not isinstance(password, str) or bool(user) != bool(password):
        errors.append(
            Error(
                "EMAIL_HOST_USER and EMAIL_HOST_PASSWORD must be set together (or neither).",
                id="contentsite.E032",
            )
        )
    if not isinstance(settings.EMAIL_USE_TLS, bool):
        errors.append(
            Error(f"EMAIL_USE_TLS must be true or false; got {settings.EMAIL_USE_TLS!r}.", id="contentsite.E033")
        )
    elif password and not settings.EMAIL_USE_TLS and host not in LOCAL_MAIL_HOSTS:
        errors.append(
            Error(
                "EMAIL_USE_TLS must be on when EMAIL_HOST_PASSWORD is sent to another machine.",
                hint="Without TLS the password crosses the network in the clear.",
                id="contentsite.E033",
            )
        )
    _, address = parseaddr(str(settings.DEFAULT_FROM_EMAIL))
    try:
        validate_email(address)
    except ValidationError:
        errors.append(
            Error(
                f"DEFAULT_FROM_EMAIL must be an email address; got {settings.DEFAULT_FROM_EMAIL!r}.",
                hint="e.g. no-reply@medsafety.example.org, or Clinical content <no-reply@medsafety.example.org>",
                id="contentsite.E034",
            )
        )
    errors += _whole_number_error(
        "EMAIL_TIMEOUT", settings.EMAIL_TIMEOUT, 1, "contentsite.E035", maximum=MAX_EMAIL_TIMEOUT_SECONDS
    )
    return errors


@register(deploy=True)
def check_deployment(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """What serving the public needs beyond a safe configuration (``manage.py check --deploy``).

    Several app servers share nothing in process memory: the cache (page cache,
    live pointers, rate limits) must be Redis and the database a server, not a
    file on one machine; readers are sent to https addresses; the demo accounts,
    whose passwords are published, do not exist.
    """
    errors: list[CheckMessage] = []
    if not settings.REDIS_URL:
        errors.append(
            Error(
                "REDIS_URL must be set when serving the public.",
                hint="Without it each process keeps its own cache and rate limits: several app servers disagree.",
                id="contentsite.E101",
            )
        )
    if settings.DATABASES["default"]["ENGINE"] not in POSTGRESQL_ENGINES:
        errors.append(
            Error(
                "DATABASE_URL must name a PostgreSQL database when serving the public.",
                hint="e.g. postgres://user@db.internal:5432/contentsite; SQLite is one file on one machine.",
                id="contentsite.E102",
            )
        )
    if urlsplit(str(settings.PUBLIC_BASE_URL)).scheme != "https":
        errors.append(
            Error(
                "PUBLIC_BASE_URL must be an https:// address when serving the public; "
                f"got {settings.PUBLIC_BASE_URL!r}.",
                id="contentsite.E103",
            )
        )
    if settings.DEMO_ACCOUNTS_ENABLED:
        errors.append(
            Error(
                "DEMO_ACCOUNTS_ENABLED must be off when serving the public: their passwords are published.",
                id="contentsite.E104",
            )
        )
    errors += _outage_page_differences()
    errors += _redis_memory_policy()
    return errors


# What a full Redis may do (``maxmemory-policy``), by what it does to this app. A Redis with no ``maxmemory`` never
# evicts nor refuses (and grows with what is cached). Measured from outside (tests/test_redis_memory_policy.py):
# a partner on 40/minute got 40 answers a minute under the LRU and LFU policies, and 57, 59 and 65 under these.
REDIS_POLICIES_REFUSED = {
    "noeviction": "refuses every write once full: every page is worked out from the database and each process "
    "counts the partner rate limits for itself",
    "volatile-ttl": "evicts the keys nearest their expiry first: the rate counters (a minute at most) and the "
    "markers of changes being committed go before any page",
    "allkeys-random": "evicts rate counters mid-window at random: a partner is let past its limit",
    "volatile-random": "evicts rate counters mid-window at random: a partner is let past its limit",
}
# These evict what was used least, but also the few keys kept without an expiry (which API keys exist and when each
# was last used, where a Redis was last cleared of what changes owed it), which the volatile- ones never evict.
REDIS_POLICIES_WARNED = ("allkeys-lru", "allkeys-lfu")
REDIS_POLICY_HINT = (
    "Set maxmemory-policy volatile-lru (or volatile-lfu) in redis.conf, with a maxmemory the machine can hold "
    '(deploy/README.md, "Redis").'
)


def _redis_memory_policy() -> list[CheckMessage]:
    """What each of the cache's Redis servers does when full (``INFO memory``, else ``CONFIG GET``, whichever the
    cache's user may ask), against ``REDIS_POLICIES_REFUSED`` and ``REDIS_POLICIES_WARNED``. A Redis that cannot be
    asked (down, or neither command allowed) is noted, not failed: a deploy does not wait on the cache."""
    config = settings.CACHES.get("default", {})
    if not settings.REDIS_URL or not str(config.get("BACKEND", "")).endswith("RedisCache"):
        return []
    location = config.get("LOCATION", "")
    servers = location.split(",") if isinstance(location, str) else list(location)
    options = config.get("OPTIONS", {})
    messages: list[CheckMessage] = []
    for url in servers:
        name = _redis_name(url)
        try:
            maxmemory, policy = _redis_memory_settings(url, options)
        except (redis.RedisError, KeyError, ValueError) as error:  # unreachable, refused, or not known
            messages.append(
                Info(
                    f"Could not read the maxmemory-policy of the Redis at {name} ({type(error).__name__}).",
                    hint=REDIS_POLICY_HINT,
                    id="contentsite.I108",
                )
            )
            continue
        if not maxmemory:
            continue
        if policy in REDIS_POLICIES_REFUSED:
            messages.append(
                Error(
                    f"The Redis at {name} has maxmemory-policy {policy}, which {REDIS_POLICIES_REFUSED[policy]}.",
                    hint=REDIS_POLICY_HINT,
                    id="contentsite.E106",
                )
            )
        elif policy in REDIS_POLICIES_WARNED:
            messages.append(
                Warning(
                    f"The Redis at {name} has maxmemory-policy {policy}, which may evict the keys the app keeps "
                    "without an expiry (which API keys exist and when each was last used, where the cache was last "
                    "cleared of what was owed).",
                    hint=REDIS_POLICY_HINT,
                    id="contentsite.W107",
                )
            )
    return messages


def _redis_name(url: str) -> str:
    """A Redis server's address without its credentials."""
    parts = urlsplit(url.strip())
    return parts.path if parts.scheme == "unix" else f"{parts.hostname}:{parts.port or 6379}"


def _redis_memory_settings(url: str, options: dict[str, Any]) -> tuple[int, str]:
    """(maxmemory in bytes, maxmemory-policy) of the Redis at ``url``: from ``INFO memory``, else ``CONFIG GET``."""
    timeouts = {name: options[name] for name in ("socket_connect_timeout", "socket_timeout") if name in options}
    client = redis.Redis.from_url(url.strip(), **timeouts)
    try:
        try:
            info = client.info("memory")
            return int(info["maxmemory"]), str(info["maxmemory_policy"])
        except redis.ResponseError:  # INFO not allowed to this user: CONFIG may be
            answered = client.config_get("maxmemory", "maxmemory-policy")
            return int(answered["maxmemory"]), str(answered["maxmemory-policy"])
    finally:
        client.close()


def _outage_page_differences() -> list[CheckMessage]:
    """The shipped VCL's own outage page (served while every app server is down, so it cannot ask them) names the
    numbers to call and when to come back, written into it: each must be what the settings say."""
    try:
        vcl = SHIPPED_VCL.read_text(encoding="utf-8")
    except OSError:
        return []  # not shipped with this copy of the app: nothing to compare
    emergency, urgent = settings.TRIAGE_EMERGENCY_NUMBER, settings.TRIAGE_URGENT_ADVICE_NUMBER
    wanted = {
        "TRIAGE_EMERGENCY_NUMBER": f'In an emergency, call <a href="tel:{emergency}">{emergency}</a>.',
        "TRIAGE_URGENT_ADVICE_NAME and TRIAGE_URGENT_ADVICE_NUMBER": (
            f'call {settings.TRIAGE_URGENT_ADVICE_NAME} on <a href="tel:{urgent}">{urgent}</a>'
        ),
    }
    errors: list[CheckMessage] = [
        Error(
            f"{names} differ from what the proxy's outage page says ({SHIPPED_VCL.name}, vcl_backend_error).",
            hint=f"Change the page in deploy/varnish/default.vcl to say: {text}",
            id="contentsite.E105",
        )
        for names, text in wanted.items()
        if text not in vcl
    ]
    retry_after = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
    if set(re.findall(r'Retry-After = "([^"]*)"', vcl)) - {retry_after}:
        errors.append(
            Error(
                f"OUTAGE_RETRY_AFTER_SECONDS differs from the proxy's own 503s' Retry-After ({SHIPPED_VCL.name}).",
                hint=f'Change each `set beresp.http.Retry-After` in deploy/varnish/default.vcl to "{retry_after}".',
                id="contentsite.E105",
            )
        )
    return errors
