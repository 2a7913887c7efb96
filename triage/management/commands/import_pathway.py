from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.interchange.importer import ImportRejected, load_document
from articles.services import article_import
from triage.interchange import PATHWAY_FORMAT


class Command(BaseCommand):
    help = (
        "Import a triage pathway file (docs/pathway-format.md) as a new draft revision. Every problem is listed "
        "by its path, and nothing is written unless the whole file is valid. Safety is checked on submission."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--author", help="Username recorded as the draft's author.")

    def handle(self, *args: object, file: Path, author: str | None, **options: object) -> None:
        actor = None
        if author:
            actor = get_user_model().objects.filter(username=author).first()
            if actor is None:
                raise CommandError(f"No user named {author!r}.")
        try:
            raw = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            revision = article_import(document=load_document(raw), actor=actor, fmt=PATHWAY_FORMAT)
        except ImportRejected as rejected:
            for problem in rejected.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(
                f"{file}: not imported, {len(rejected.problems)} problem(s); nothing was changed."
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {revision.article.slug} as draft revision {revision.number}."))
