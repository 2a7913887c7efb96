from typing import Any

from django.db.models import QuerySet

from articles.management.commands.export_article import Command as ExportArticle
from articles.models import Revision
from triage.content import PREFETCH
from triage.interchange import pathway_document
from triage.models import PATHWAY


class Command(ExportArticle):
    help = "Export a triage pathway revision as JSON (docs/pathway-format.md): the live one by default."
    kind, noun = PATHWAY, "pathway"

    def revisions(self) -> QuerySet[Revision]:
        return Revision.objects.with_content().prefetch_related(*PREFETCH)

    def document(self, revision: Revision) -> dict[str, Any]:
        return pathway_document(revision)
