from articles.models import Revision
from articles.services import revisions_notify_overdue
from contentsite.management.cron import CronCommand


class Command(CronCommand):
    help = (
        "Email the clinical reviewers about live revisions whose review is overdue, once per revision and due "
        "date. Safe to run from several machines at once and any number of times (run it daily, next to "
        "publish_scheduled)."
    )

    def handle(self, *args: object, **options: object) -> None:
        # Each as it commits: should the database go later in the run, who was told is still reported.
        told = revisions_notify_overdue(on_told=self._told)
        if not told:
            self.stdout.write("No new overdue review to tell of.")

    def _told(self, revision: Revision) -> None:
        self.stdout.write(f"Told the reviewers: {revision.article.slug} revision {revision.number} is overdue.")
        self.stdout.flush()
