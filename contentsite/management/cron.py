"""What every command run from cron does while the database is down: one line and a code of its own.

Cron mails whatever a command prints. While PostgreSQL is down every run on every app server
meets the same failure; a traceback a minute each buries the one fact the operator needs. A
``CronCommand`` says it in one line on stderr, as the app servers' outage log does
(``contentsite.middleware.database_unavailable``), and exits with
``DATABASE_UNAVAILABLE_EXIT_CODE``, so a wrapper or a monitor can tell "down, tried again next
run" from a fault. Nothing is half-done: each command's steps run in transactions of their own,
rolled back whole when the connection fails, and the next run takes them up. A step that committed
before the failure stays done: each command reports its steps as they commit (stdout), so that the
one line can say that what was reported is done and nothing else.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from contentsite.middleware import is_database_outage

# sysexits.h EX_TEMPFAIL: "a temporary failure ... the user is invited to retry later".
DATABASE_UNAVAILABLE_EXIT_CODE = 75


class CronCommand(BaseCommand):
    """A management command meant for cron: the database unreachable (or taking no writes) ends it with one line
    and ``DATABASE_UNAVAILABLE_EXIT_CODE`` instead of a traceback (``--traceback`` still shows it)."""

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except DatabaseError as error:
            if not is_database_outage(error):
                raise
            reason = " ".join(str(error).split())  # libpq's message runs over several lines
            raise CommandError(
                f"The database is unavailable ({reason}): the run stopped there; what it reported above is done, "
                "nothing else; the next run tries again.",
                returncode=DATABASE_UNAVAILABLE_EXIT_CODE,
            ) from error
