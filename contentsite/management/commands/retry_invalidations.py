"""``manage.py retry_invalidations``: send again the cache drops and proxy purges that committed changes could not."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from contentsite.invalidation import retry_pending
from contentsite.management.cron import CronCommand


class Command(CronCommand):
    help = (
        "Drop from the cache and purge from the proxy what committed changes could not at the time "
        "(contentsite.invalidation). Run it from cron every minute on every app server: running it twice at "
        "once is harmless. Fails while some are left (the cache or a proxy still does not take them)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        taken, left = retry_pending()
        self.stdout.write(f"{taken} pending invalidations taken, {left} left.")
        if left:
            raise CommandError(
                f"{left} pending invalidations left: the cache or a proxy does not take them yet "
                "(readers may see what changed only once it does)."
            )
