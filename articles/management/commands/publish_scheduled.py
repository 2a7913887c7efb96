from django.core.management.base import CommandError

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
        recorded = revisions_publish_due(busy=busy)
        for revision in recorded:
            self.stdout.write(f"Published {revision.article.slug} revision {revision.number} (scheduled).")
        if not recorded and not busy:
            self.stdout.write("No scheduled publication is due.")
        if busy:
            named = ", ".join(f"{revision.article.slug} revision {revision.number}" for revision in busy)
            raise CommandError(
                f"Not recorded, its article busy past the lock timeout (readers see it live already; "
                f"the next run records it): {named}."
            )
