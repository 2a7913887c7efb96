from contentsite.management.cron import CronCommand
from triage.services import outcome_counts_flush


class Command(CronCommand):
    help = (
        "Fold the anonymous outcome counts kept in the cache into the database. Run every minute or so "
        "(cron, a systemd timer); safe to run on several machines at once."
    )

    def handle(self, *args: object, **options: object) -> None:
        moved = outcome_counts_flush()
        self.stdout.write(f"{moved:,} outcome{'' if moved == 1 else 's'} counted.")
