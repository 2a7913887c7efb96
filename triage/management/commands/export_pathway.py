from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.interchange.export import dumps_document
from articles.models import Revision, RevisionState
from triage.content import PREFETCH
from triage.interchange import pathway_document


class Command(BaseCommand):
    help = "Export a triage pathway revision as JSON (docs/pathway-format.md): the live one by default."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--revision", type=int)
        parser.add_argument("--output", "-o", type=Path)

    def handle(self, *args: object, slug: str, revision: int | None, output: Path | None, **options: object) -> None:
        revisions = Revision.objects.pathways().with_content().prefetch_related(*PREFETCH).filter(article__slug=slug)
        if revision is not None:
            chosen = revisions.filter(number=revision).first()
        else:
            chosen = revisions.published().first() or revisions.exclude(state=RevisionState.ARCHIVED).first()
        if chosen is None:
            raise CommandError(f"No pathway revision to export for {slug!r}.")
        text = dumps_document(pathway_document(chosen))
        if output is None:
            self.stdout.write(text, ending="")
        else:
            output.write_text(text, encoding="utf-8")
