"""Test settings: the database and cache still come from the environment.

CI runs the suite once on SQLite (the default) and once with ``DATABASE_URL``
pointing at PostgreSQL and ``REDIS_URL`` at Redis.
"""

from .base import *  # noqa: F403
from .environment import env_str

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-used-anywhere-else-0123456789abcdefghij"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PUBLIC_BASE_URL = "https://medsafety.example"

if REDIS_URL:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = env_str("CACHE_KEY_PREFIX", "contentsite-test")  # noqa: F405

LOGGING["root"]["level"] = "WARNING"  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # serve from the finders; tests never run collectstatic

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the browser tests' live server then uses its own
    # connections, as app servers do, instead of sharing the test's connection.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}  # noqa: F405
