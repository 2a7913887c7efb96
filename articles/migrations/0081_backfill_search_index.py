"""Index the live and scheduled revisions that exist already (see ``articles.search``).

It calls the indexer with this migration's historical models, so what it writes
is what the services write. Should ``index_articles`` come to need a field
added after this migration, freeze a copy of it here.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    from articles.search import INDEXED_STATES, index_articles

    Revision = apps.get_model("articles", "Revision")
    ids = Revision.objects.filter(state__in=INDEXED_STATES).values_list("article_id", flat=True).distinct()
    index_articles(list(ids), apps=apps)


class Migration(migrations.Migration):
    dependencies = [("articles", "0080_search_entry")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
