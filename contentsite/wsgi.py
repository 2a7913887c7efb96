"""WSGI entry point, e.g. ``gunicorn contentsite.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contentsite.settings.production")

application = get_wsgi_application()
