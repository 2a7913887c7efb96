from articles.management.commands.import_article import Command as ImportArticle
from triage.interchange import PATHWAY_FORMAT


class Command(ImportArticle):
    fmt = PATHWAY_FORMAT
    help = (
        "Import a triage pathway file (docs/pathway-format.md) as a new draft revision. Every problem is listed "
        "by its path, and nothing is written unless the whole file is valid. Safety is checked on submission."
    )
