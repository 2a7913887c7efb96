from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet

from articles.interchange.export import dumps_document, revision_document
from articles.models import Article, ArticleKind, Revision, RevisionState
from articles.vocabulary_history import NO_LONGER_LIVE, show_vocabulary_as_reviewed


class Command(BaseCommand):
    help = (
        "Export one article with a revision's content as JSON (docs/article-format.md): "
        "the live revision by default, otherwise the latest one."
    )

    kind, noun = ArticleKind.ARTICLE, "article"  # export_pathway changes these three hooks

    def revisions(self) -> QuerySet[Revision]:
        return Revision.objects.with_content().with_review()

    def document(self, revision: Revision) -> dict[str, Any]:
        # A revision readers no longer see: its medication and symptoms as its reviewer last approved them.
        as_of = show_vocabulary_as_reviewed(revision) if revision.state in NO_LONGER_LIVE else None
        return revision_document(revision, vocabulary_as_of=as_of)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The article's slug.")
        parser.add_argument("--revision", type=int, help="Export this revision number instead.")
        parser.add_argument("--output", "-o", type=Path, help="Write to this file instead of standard output.")

    def handle(self, *args: object, slug: str, revision: int | None, output: Path | None, **options: object) -> None:
        article = Article.objects.filter(slug=slug, kind=self.kind).first()
        if article is None:
            raise CommandError(f"No {self.noun} with the slug {slug!r}.")
        revisions = self.revisions().filter(article=article)
        if revision is not None:
            chosen = revisions.filter(number=revision).first()
            if chosen is None:
                raise CommandError(f"The {self.noun} {slug!r} has no revision {revision}.")
        else:
            chosen = revisions.published().first() or revisions.exclude(state=RevisionState.ARCHIVED).first()
            if chosen is None:
                raise CommandError(f"The {self.noun} {slug!r} has no revision to export.")
        text = dumps_document(self.document(chosen))
        if output is None:
            self.stdout.write(text, ending="")
        else:
            output.write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote revision {chosen.number} of {slug} to {output}.")
