"""Production settings: everything insecure is off, and required values must be set.

Run behind a TLS-terminating load balancer that sets ``X-Forwarded-Proto``.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .environment import env_bool, env_int, env_list, env_str

DEBUG = False
DEMO_ACCOUNTS_ENABLED = False

SECRET_KEY = env_str("SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's host names in production.")

PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", f"https://{ALLOWED_HOSTS[0]}").rstrip("/")

# Workflow emails by SMTP (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD and
# EMAIL_USE_TLS, read in base.py): by default the machine's own mail server, from the site's host.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# The default sender's domain is the site's first host name; an address (127.0.0.1) or a
# wildcard (.example.org) makes no address, so the sender is then no-reply@localhost.
_SENDER_DOMAIN = ALLOWED_HOSTS[0].lstrip(".")
if not _SENDER_DOMAIN or _SENDER_DOMAIN.replace(".", "").isdigit() or ":" in _SENDER_DOMAIN or "*" in _SENDER_DOMAIN:
    _SENDER_DOMAIN = "localhost"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"no-reply@{_SENDER_DOMAIN}")

DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind that balancer every connection comes from it: without counting it, log-in throttling would
# lock every member of staff out together after ten wrong passwords from anyone.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# One JSON object per line, for the log collector (fields: contentsite.logs).
LOGGING["handlers"]["console"]["formatter"] = "json"  # noqa: F405

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
