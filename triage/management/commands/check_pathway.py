import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.models import Revision
from triage.kind import safety_report
from triage.models import PATHWAY


class Command(BaseCommand):
    help = (
        "Run a pathway revision's safety checks: every answer combination reaches a disposition, "
        "no red flag is out-voted, every rule can fire, every vignette passes. Exits 1 if any fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The pathway's slug.")
        parser.add_argument("--revision", type=int, help="Revision number (default: the latest).")

    def handle(self, *args: object, slug: str, revision: int | None, **options: object) -> None:
        revisions = Revision.objects.of_kind(PATHWAY).filter(article__slug=slug).select_related("article")
        chosen = revisions.filter(number=revision).first() if revision else revisions.order_by("-number").first()
        if chosen is None:
            raise CommandError(f"No pathway revision {slug!r}{f' r{revision}' if revision else ''}.")
        started = time.perf_counter()
        report = safety_report(chosen)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{slug} revision {chosen.number}: {report.combinations_checked:,} answer combinations checked "
            f"in {elapsed:.2f} s."
        )
        for label, findings in (("ERROR", report.errors), ("FAIL", report.failures), ("warning", report.warnings)):
            for finding in findings:
                self.stdout.write(f"  {label}: {finding.message}")
        if not report.passed:
            raise CommandError("The pathway fails its checks; it cannot be approved.")
        self.stdout.write(self.style.SUCCESS("All safety checks pass."))
