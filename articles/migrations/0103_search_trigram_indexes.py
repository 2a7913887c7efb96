"""On PostgreSQL, trigram indexes for the admin's search of articles and revisions (``ArticleAdmin.get_search_results``):
a search for a few letters anywhere in a slug, title or topic reads the rows that have them, not every row of the
library (0.35-0.45 s at 100,000 articles). SQLite has no such index and reads the table, as before."""

from django.db import migrations

INDEXES = [
    ("article_slug_trgm", "articles_article", "slug"),
    ("revision_title_trgm", "articles_revision", "title"),
    ("revision_topic_trgm", "articles_revision", "topic"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        # icontains is UPPER(column::text) LIKE UPPER('%words%'): the index is on that expression. Without a pending
        # list (fastupdate): rows written since the last vacuum would make the planner read the table instead.
        schema_editor.execute(
            f'CREATE INDEX "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops) '
            "WITH (fastupdate = off)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("articles", "0102_revision_review_due")]

    operations = [migrations.RunPython(create, drop)]
