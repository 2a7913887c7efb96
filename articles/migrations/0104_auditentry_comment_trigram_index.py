"""On PostgreSQL, a trigram index for the admin's search of the audit log (``AuditEntryAdmin.get_search_results``): a
search for a few letters anywhere in an entry's comment reads the entries that have them, not the whole log (with the
slug's index of ``0103_search_trigram_indexes``, 0.6 s a query at 100,000 articles and 300,000 entries, three queries a
page). SQLite has no such index and reads the table, as before."""

from django.db import migrations

INDEX = "auditentry_comment_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # As 0103: on icontains' UPPER(column::text), without a pending list.
    schema_editor.execute(
        f'CREATE INDEX "{INDEX}" ON "articles_auditentry" USING gin ((UPPER("comment"::text)) gin_trgm_ops) '
        "WITH (fastupdate = off)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("articles", "0103_search_trigram_indexes")]

    operations = [migrations.RunPython(create, drop)]
