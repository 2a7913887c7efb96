from django.core.management.base import CommandError

from articles.models import Revision
from articles.services import revisions_publish_due
from contentsite.management.cron import CronCommand


class Command(CronCommand):
    help = (
        "Record scheduled publications whose time has come. Readers already see them live; this writes the "
        "state change and the audit entry. Safe to run from several machines at once and any number of times. "
        "An article busy past the lock timeout is left for the next run (the others are recorded) and the "
        "command then exits with an error naming it."
    )

    def handle(self, *args: object, **options: object) -> None:
        busy = []
        # Each as it commits: should the database go later in the run, what was recorded is still reported.
        recorded = revisions_publish_due(busy=busy, on_recorded=self._recorded)
        if not recorded and not busy:
            self.stdout.write("No scheduled publication is due.")
        if busy:
            named = ", ".join(f"{revision.article.slug} revision {revision.number}" for revision in busy)
            raise CommandError(
                f"Not recorded, its article busy past the lock timeout (readers see it live already; "
                f"the next run records it): {named}."
            )

    def _recorded(self, revision: Revision) -> None:
        self.stdout.write(f"Published {revision.article.slug} revision {revision.number} (scheduled).")
        self.stdout.flush()
