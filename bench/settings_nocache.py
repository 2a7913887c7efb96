"""``bench.settings`` with a cache that never hits: every article page is a cache miss.

Clearing the cache between requests is impossible under wrk's load, and the app's code is not
the bench's to change, so the miss cases run on a second gunicorn with these settings.
"""

from .settings import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
