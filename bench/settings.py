"""The production settings, plus the bench's URLconf and nothing else.

The servers under test run with these (``DJANGO_SETTINGS_MODULE=bench.settings``); everything
else comes from the environment exactly as in production (the bench sets SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and SECURE_SSL_REDIRECT=false for plain http on loopback).
"""

from contentsite.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
