"""Base settings: safe defaults for local use, everything overridable by environment.

``production`` and ``test`` start from this module. Nothing here may depend on
the process's memory being shared between app servers: sessions live in the
database and the cache is Redis whenever ``REDIS_URL`` is set.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .environment import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Local use is the default; production.py forces DEBUG off.
DEBUG = env_bool("DEBUG", default=True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "django-insecure-local-development-only-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The public address readers use; canonical URLs, the sitemap and JSON-LD use it so
# that every app server behind a load balancer writes the same links.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "csp",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "logins",  # after axes: it replaces axes' admin for lockouts
    "articles",
    "partners",
    "triage",
    "feedback",
    "contentsite",  # the project's own system checks (contentsite.checks)
]

MIDDLEWARE = [
    # Health probes first: before ALLOWED_HOSTS, the HTTPS redirect and the request log.
    "contentsite.health.HealthCheckMiddleware",
    # Then one log line per request, with its request id (X-Request-ID), status and duration.
    "contentsite.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A repeat GET of a live public page by a reader without a session is answered here, from the
    # page's validators and this process's copy, before sessions, CSRF, auth and CSP run. A request for
    # a partner API view leaves here for the API's own list (PARTNER_API_MIDDLEWARE, below).
    "contentsite.early.EarlyAnswerMiddleware",
    # Outside every middleware that sets a cookie: a response that sets one is never left
    # for a shared cache (below WhiteNoise, which answers static files itself).
    "contentsite.proxy.ProxyCookieGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "contentsite.middleware.CommonMiddleware",
    "contentsite.middleware.ConditionalGetMiddleware",
    # Just inside conditional GET, so a 304 carries the tagged page's Cache-Control; outside
    # CSRF, so it sees the CSRF cookie (and leaves that page untagged).
    "contentsite.proxy.SurrogateKeyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "contentsite.middleware.PermissionsPolicyMiddleware",
    "contentsite.middleware.LockConflictMiddleware",
    # An admin list action with a selection that is no row's key: the list again, not a 500.
    "contentsite.middleware.AdminSelectionMiddleware",
    # Database unreachable: 503 with Retry-After, never a 500 (contentsite.outages).
    "contentsite.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a refused log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# The partner API's JSON views (``PartnerView``) pass the middleware above EarlyAnswerMiddleware, then only
# these (``contentsite.early.PartnerAPIHandler``), not the browser's: a partner's program has no session,
# CSRF token, log-in or messages, and reads JSON, not pages (its policy: PARTNER_API_CONTENT_SECURITY_POLICY).
# The interactive docs are a page for people: they take the whole list above.
PARTNER_API_MIDDLEWARE = [
    "contentsite.middleware.CommonMiddleware",
    "contentsite.middleware.ConditionalGetMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "contentsite.middleware.PermissionsPolicyMiddleware",
    "contentsite.middleware.PartnerAPIContentSecurityPolicyMiddleware",
    "contentsite.middleware.LockConflictMiddleware",
    "contentsite.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "contentsite.urls"
WSGI_APPLICATION = "contentsite.wsgi.application"
ASGI_APPLICATION = "contentsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "contentsite.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
# How long a transaction waits for a row lock before giving up (PostgreSQL's lock_timeout); the
# request then answers "someone else changed this, try again" (contentsite.middleware), never hangs.
# Checked by ``contentsite.checks`` (100 to 600,000), like every other value read here.
DATABASE_LOCK_TIMEOUT_MS = env_int("DATABASE_LOCK_TIMEOUT_MS", 10_000)
# How long a request waits to connect to PostgreSQL (libpq's connect_timeout) before it answers 503: a server that
# is stuck or cut off accepts the connection and never answers, and libpq would wait for it for ever.
DATABASE_CONNECT_TIMEOUT_SECONDS = env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 5)
# How long what a request sent PostgreSQL may go unacknowledged before its connection ends (libpq's
# tcp_user_timeout) and the request answers 503: when the database's host is cut off or frozen, a kept connection
# (CONN_MAX_AGE) gets no acknowledgement and no answer, and TCP would retransmit for about 15 minutes while the worker
# waits. Keepalives (below) probe a connection that waits for an answer in silence; with this set, one whose probes go
# unacknowledged this long ends too. A live server acknowledges at once, however long its query runs.
DATABASE_TCP_USER_TIMEOUT_MS = env_int("DATABASE_TCP_USER_TIMEOUT_MS", 10_000)
# A connection silent this long is probed every DATABASE_KEEPALIVES_INTERVAL_SECONDS.
DATABASE_KEEPALIVES_IDLE_SECONDS = 5
DATABASE_KEEPALIVES_INTERVAL_SECONDS = 2
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Added to whatever DATABASE_URL's ?options= already asks for, never instead of it.
    _options["options"] = f"{_options.get('options', '')} -c lock_timeout={DATABASE_LOCK_TIMEOUT_MS}".strip()
    # Each unless DATABASE_URL names its own.
    _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS)
    _options.setdefault("tcp_user_timeout", DATABASE_TCP_USER_TIMEOUT_MS)
    _options.setdefault("keepalives", 1)
    _options.setdefault("keepalives_idle", DATABASE_KEEPALIVES_IDLE_SECONDS)
    _options.setdefault("keepalives_interval", DATABASE_KEEPALIVES_INTERVAL_SECONDS)
    _options.setdefault("keepalives_count", 3)
    # Django's backend, not waiting again at once for a server that did not answer in time (its docstring).
    DATABASES["default"]["ENGINE"] = "contentsite.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# A dead or stalled Redis costs a request at most these (per cache call), then it is a miss
# (contentsite.cache); checked by contentsite.checks.
REDIS_CONNECT_TIMEOUT_MS = env_int("REDIS_CONNECT_TIMEOUT_MS", 250)
REDIS_SOCKET_TIMEOUT_MS = env_int("REDIS_SOCKET_TIMEOUT_MS", 500)
# After Redis did not answer, each process asks it again only after this long; until then every cache call is a
# miss at once (contentsite.cache), so a hung Redis costs a process one timeout per period, not one per call.
REDIS_RETRY_AFTER_SECONDS = env_int("REDIS_RETRY_AFTER_SECONDS", 5)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "contentsite.cache.RedisCache",  # Django's, failing soft, with its client object reused
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "contentsite"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_MS / 1000,
                "socket_timeout": REDIS_SOCKET_TIMEOUT_MS / 1000,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out user name or address is refused before any password is tried.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Security headers that hold everywhere, not only in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# A form sent without a valid token: a plain explanation and a way on, not Django's "CSRF verification failed".
CSRF_FAILURE_VIEW = "contentsite.error_pages.csrf_failure"

# No inline script or style anywhere and nothing from another origin: the public
# pages load only our own stylesheet. JSON-LD blocks are data, not scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
# JSON needs no script, style or frame: the partner API's responses allow nothing (OWASP's advice for APIs).
PARTNER_API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"

# Checked here, not by a system check: logging is configured before any check runs.
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
# Human-readable here; production.py switches the same handler to one JSON object per line.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Every line written while a request is handled carries its id (contentsite.logs).
        "request_id": {"()": "contentsite.logs.RequestIdFilter"},
        # One of each identical warning a minute, with a count (429s, a cache that is down).
        "repeated_warnings": {"()": "contentsite.logs.RepeatedWarningFilter"},
    },
    "formatters": {
        "plain": {
            "()": "contentsite.logs.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s",
        },
        "json": {
            "()": "contentsite.logs.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "repeated_warnings"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own "Not Found: /x" warnings repeat the request line (contentsite.requests); errors stay.
        "django.request": {"level": "ERROR"},
    },
}

# --- The partner API ---------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["partners.authentication.PartnerKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["partners.permissions.HasPartnerKey"],
    "DEFAULT_THROTTLE_CLASSES": ["partners.throttling.PartnerKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's negotiation, answering "no Accept / */* / the first media type" without parsing the header.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "contentsite.api.negotiation.PartnerContentNegotiation",
    # JSON only, at most MAX_DOCUMENT_BYTES and MAX_JSON_DEPTH levels (articles/limits.py).
    "DEFAULT_PARSER_CLASSES": ["contentsite.api.parsers.BoundedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "contentsite.api.schema.PartnerAutoSchema",
    # Every error as an RFC 9457 problem detail (application/problem+json).
    "EXCEPTION_HANDLER": "contentsite.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Medication Safety Library partner API",
    "DESCRIPTION": (
        "Published, clinically reviewed medication-safety content, read-only. "
        "Every request needs a partner key: `Authorization: Api-Key <key>`. "
        "Lists use cursor pagination (follow `next`); responses carry `ETag`, and `Last-Modified` once the last "
        "change is old enough that no later one can share its second, so repeat requests with `If-None-Match` or "
        "`If-Modified-Since` are answered 304 when nothing changed (prefer `If-None-Match`). "
        "`/changes/` is a feed of every publication, replacement and withdrawal, in commit order. "
        "An article's schema.org JSON-LD is at `/articles/{slug}/jsonld/` (`application/ld+json`); "
        "`Accept: application/ld+json` at `/articles/{slug}/` still answers it, for existing integrations. "
        "Every error is an RFC 9457 problem detail (`application/problem+json`): act on `status`, `code` "
        "and, for a 400, `errors` (one entry per parameter or field). "
        "Every response to a valid key carries `RateLimit-Policy` and `RateLimit` "
        "(draft-ietf-httpapi-ratelimit-headers-10); a 429 also carries `Retry-After`."
    ),
    "VERSION": "1.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "OAS_VERSION": "3.1.0",
    "ENUM_NAME_OVERRIDES": {
        "UrgencyLevelEnum": "triage.api.serializers.LEVELS",
        "ChangeEventTypeEnum": "articles.models.ChangeKind",
        "ReviewKindEnum": "articles.models.ReviewKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "contentsite.api.schema.postprocess",
    ],
}

# Requests per key unless the partner has its own limit.
PARTNER_API_RATE = env_str("PARTNER_API_RATE", "600/minute")
# Failed authentications (unknown, revoked or expired keys) one client address may make before the next are a 429.
PARTNER_API_FAILED_AUTH_RATE = env_str("PARTNER_API_FAILED_AUTH_RATE", "20/minute")
# Shown with every article the API serves.
PARTNER_CONTENT_ATTRIBUTION = env_str(
    "PARTNER_CONTENT_ATTRIBUTION", "Content from the Medication Safety Library. Show the canonical link with it."
)
PARTNER_CONTENT_LICENCE = env_str(
    "PARTNER_CONTENT_LICENCE", "Licensed to the partner under the terms of its content agreement."
)
PARTNER_CONTENT_LICENCE_URL = env_str("PARTNER_CONTENT_LICENCE_URL", "")

# --- Reader feedback -----------------------------------------------------------------------
# Feedback one client address may send (counted in the cache under a keyed hash, never stored).
FEEDBACK_RATE = env_str("FEEDBACK_RATE", "10/hour")

# --- Triage --------------------------------------------------------------------------------

# Shown prominently on every triage result and form.
TRIAGE_EMERGENCY_NUMBER = env_str("TRIAGE_EMERGENCY_NUMBER", "999")
# Whom to contact today when it is urgent but not an emergency: shown with a tap-to-call
# number on every triage page, and named on urgent results.
TRIAGE_URGENT_ADVICE_NUMBER = env_str("TRIAGE_URGENT_ADVICE_NUMBER", "111")
TRIAGE_URGENT_ADVICE_NAME = env_str("TRIAGE_URGENT_ADVICE_NAME", "NHS 111")
# The safety checks enumerate every combination of answers; larger pathways are refused.
TRIAGE_MAX_ANSWER_COMBINATIONS = env_int("TRIAGE_MAX_ANSWER_COMBINATIONS", 2**16)

# --- Log-in throttling (django-axes) ---------------------------------------------------
# Failed log-ins are counted per user name and, separately, per address; either reaching
# the limit within the cool-off refuses further log-ins for it until the cool-off has
# passed since its last counted failure, or an administrator releases it in the admin.
# ``logins.checks`` refuses values that would weaken this.

# The database every app server shares; never a count in one process's memory.
AXES_HANDLER = "logins.handlers.LoginAttemptHandler"
# Ten, as the NCSC's password guidance advises over three: typos do not lock people out,
# guessing still gets nowhere.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 30))
# Comma-separated; each item is ``username``, ``ip_address`` or ``username+ip_address``.
# Separately (the default), a guess at one account from many addresses and a guess at
# many accounts from one address are both stopped; the combination alone stops neither.
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item for item in env_list("LOGIN_LOCKOUT_BY", ["username", "ip_address"])
]
# A successful log-in forgets that person's own failures from that address (and nobody
# else's: see ``logins.handlers``).
AXES_RESET_ON_SUCCESS = env_bool("LOGIN_RESET_ON_SUCCESS", default=True)
# Knocking during a lockout does not extend it, so the time the lockout page gives holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Every failure stays on record (in the admin, "Access failures") after its lockout has
# ended and the counts have been forgotten; ``manage.py axes_reset_failure_logs`` prunes it.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "logins.lockouts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "logins.addresses.client_ip_address"
# How many reverse proxies in front of the app servers append to X-Forwarded-For. With 0
# the header is ignored and the connecting address is the client's; behind N proxies the
# client's address is the N-th entry from the right (the one our outermost proxy wrote).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Named on the lockout page: whom to ask for a release.
LOGIN_LOCKOUT_CONTACT = env_str("LOGIN_LOCKOUT_CONTACT", "an administrator of this site").strip()

# --- The caching reverse proxy (contentsite.proxy, deploy/varnish/) ----------------------------
# Checked by ``contentsite.checks``.

# Base URLs of every proxy to purge when public content changes (comma-separated); empty: no proxy.
PROXY_PURGE_URLS = env_list("PROXY_PURGE_URLS", [])
# Each purge request's timeout; a failed purge is retried a few times, then logged.
PROXY_PURGE_TIMEOUT_SECONDS = env_int("PROXY_PURGE_TIMEOUT_SECONDS", 2)
# How long the proxy keeps a public page (s-maxage): what bounds the damage of a purge that failed.
PROXY_PAGE_MAX_AGE = env_int("PROXY_PAGE_MAX_AGE", 300)
# After that, how long it may still answer with the old page while fetching the new one.
PROXY_STALE_WHILE_REVALIDATE = env_int("PROXY_STALE_WHILE_REVALIDATE", 30)
# How long it may answer with the old page when the app servers are down or failing.
PROXY_STALE_IF_ERROR = env_int("PROXY_STALE_IF_ERROR", 86400)

# --- Outages (contentsite.outages) ------------------------------------------------------------
# Sent as Retry-After with the 503 answered while the database is unreachable; checked by contentsite.checks.
OUTAGE_RETRY_AFTER_SECONDS = env_int("OUTAGE_RETRY_AFTER_SECONDS", 30)

# --- The product's own settings -------------------------------------------------

SITE_NAME = env_str("SITE_NAME", "Medication Safety Library")

# --- Workflow emails (articles.notifications), checked by contentsite.checks ------------------
# Printed to the console locally; production.py sends them by SMTP with these values.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # seconds: a slow mail server never holds a request for long
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clinical-content@localhost")

# Rendered article pages are cached under the identity of the revision they show,
# so this only bounds memory; it never decides freshness.
ARTICLE_PAGE_CACHE_SECONDS = env_int("ARTICLE_PAGE_CACHE_SECONDS", 3600)
# What is live at each address is kept in the cache (``articles.live``) and dropped on
# every change; this only bounds what a change whose process died mid-commit leaves.
LIVE_POINTER_SECONDS = env_int("LIVE_POINTER_SECONDS", 300)
# Whether a shared-cache miss of an article page takes the page stored when what it shows last changed
# (``articles.models.pages``), instead of rendering it: off, every miss renders (the stored pages are still written).
STORED_ARTICLE_PAGES = env_bool("STORED_ARTICLE_PAGES", default=True)

# Largest article import file accepted, in bytes.
ARTICLE_IMPORT_MAX_BYTES = env_int("ARTICLE_IMPORT_MAX_BYTES", 2 * 1024 * 1024)

# Demo accounts have well-known passwords: they exist for local use only and
# production.py turns them off whatever the environment says.
DEMO_ACCOUNTS_ENABLED = env_bool("DEMO_ACCOUNTS_ENABLED", default=DEBUG)
