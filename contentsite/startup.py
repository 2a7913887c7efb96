"""What an app server does once, as it starts: say which settings it runs with, and refuse bad ones.

``manage.py`` runs the system checks before its commands, but gunicorn and an ASGI
server never do: without this, a bad ``PARTNER_API_RATE`` started fine and then
failed every API request. Deployment checks (``check --deploy``) stay with the
deploy pipeline; the ordinary ones are cheap and need no database.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


def check_at_start() -> None:
    """Log the settings module in use; raise ``ImproperlyConfigured`` if any system check finds an error."""
    logger.info(
        "Starting with settings %s (DEBUG %s)",
        os.environ.get("DJANGO_SETTINGS_MODULE"),
        "on" if settings.DEBUG else "off",
    )
    errors = [message for message in run_checks() if message.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "System checks failed; fix the settings (see manage.py check --deploy):\n"
            + "\n".join(str(error) for error in errors)
        )
