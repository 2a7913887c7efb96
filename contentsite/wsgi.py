"""WSGI entry point for the app servers, e.g. ``gunicorn contentsite.wsgi``.

Which settings: ``contentsite.settings.production`` unless ``DJANGO_SETTINGS_MODULE``
says otherwise. ``manage.py`` defaults to ``contentsite.settings.base`` instead, on
purpose: commands on a developer's machine just work with DEBUG on, while a server
process never falls back to them by accident (production refuses to start without
SECRET_KEY and ALLOWED_HOSTS). Run management commands on a server with
``DJANGO_SETTINGS_MODULE=contentsite.settings.production`` (README, "Deployment").
At start the server logs the settings module it uses and refuses to start if a
system check fails (``contentsite.startup``).
"""

import os

from contentsite.handlers import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contentsite.settings.production")

application = get_wsgi_application()

from contentsite.startup import check_at_start  # noqa: E402 - needs the settings configured above

check_at_start()
