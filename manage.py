#!/usr/bin/env python
"""Django's command-line utility.

Which settings: ``contentsite.settings.base`` (local use, DEBUG on) unless
``DJANGO_SETTINGS_MODULE`` says otherwise; the app servers (``contentsite.wsgi``,
``contentsite.asgi``) default to ``contentsite.settings.production``. On a server, set
``DJANGO_SETTINGS_MODULE=contentsite.settings.production`` for every command.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contentsite.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
