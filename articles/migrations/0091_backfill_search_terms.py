"""Index live and scheduled content again: the symptom entries' text, callouts and action steps join the
index, and their names fill the vocabulary of suggestions (``SearchTerm``). Calls the indexer with this
migration's historical models, as 0081 does.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    from articles.search import INDEXED_STATES, index_articles

    Revision = apps.get_model("articles", "Revision")
    ids = Revision.objects.filter(state__in=INDEXED_STATES).values_list("article_id", flat=True).distinct()
    index_articles(list(ids), apps=apps)


class Migration(migrations.Migration):
    dependencies = [("articles", "0090_search_terms")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
