from django.core.management.base import BaseCommand

from triage.services import outcome_counts_flush


class Command(BaseCommand):
    help = (
        "Fold the anonymous outcome counts kept in the cache into the database. Run every minute or so "
        "(cron, a systemd timer); safe to run on several machines at once."
    )

    def handle(self, *args: object, **options: object) -> None:
        moved = outcome_counts_flush()
        self.stdout.write(f"{moved:,} outcome{'' if moved == 1 else 's'} counted.")
