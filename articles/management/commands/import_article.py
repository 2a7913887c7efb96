from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.interchange.importer import ARTICLE_FORMAT, ImportRejected, load_document
from articles.services import article_import


class Command(BaseCommand):
    fmt = ARTICLE_FORMAT  # import_pathway reads pathway files with this same command
    help = (
        "Import one article file (docs/article-format.md) as a new draft revision. "
        "Every problem is listed by its field path, and nothing is written unless the whole file is valid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path of the JSON file, or - for standard input.")
        parser.add_argument("--author", help="Username recorded as the draft's author.")

    def handle(self, *args: object, file: Path, author: str | None, **options: object) -> None:
        actor = None
        if author:
            try:
                actor = get_user_model().objects.get(username=author)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named {author!r}.") from None
        try:
            raw = self.stdin_bytes() if str(file) == "-" else file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            revision = article_import(document=load_document(raw), actor=actor, fmt=self.fmt)
        except ImportRejected as rejected:
            for problem in rejected.problems:
                self.stderr.write(f"  {problem}")
            count = len(rejected.problems)
            raise CommandError(
                f"{file}: not imported, {count} problem{'s' if count != 1 else ''}; nothing was changed."
            ) from None
        except (ValidationError, PermissionDenied) as refused:  # e.g. the article already has an open draft
            text = " ".join(getattr(refused, "messages", None) or [str(refused)])
            raise CommandError(f"{file}: {text} Nothing was changed.") from None
        self.stdout.write(self.style.SUCCESS(f"Imported {revision.article.slug} as draft revision {revision.number}."))

    def stdin_bytes(self) -> bytes:
        import sys

        return sys.stdin.buffer.read()
