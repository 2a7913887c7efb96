"""ASGI entry point; the same settings and start-up checks as ``contentsite.wsgi`` (see its docstring)."""

import os

from contentsite.handlers import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contentsite.settings.production")

application = get_asgi_application()

from contentsite.startup import check_at_start  # noqa: E402 - needs the settings configured above

check_at_start()
