from django.core.management.base import BaseCommand

from articles.services import revisions_publish_due


class Command(BaseCommand):
    help = (
        "Record scheduled publications whose time has come. Readers already see them live; this writes the "
        "state change and the audit entry. Safe to run from several machines at once and any number of times."
    )

    def handle(self, *args: object, **options: object) -> None:
        recorded = revisions_publish_due()
        for revision in recorded:
            self.stdout.write(f"Published {revision.article.slug} revision {revision.number} (scheduled).")
        if not recorded:
            self.stdout.write("No scheduled publication is due.")
