"""The vocabulary of "Did you mean …?" (``SearchTerm``) and the trigram index each database matches it by.

PostgreSQL: the ``pg_trgm`` extension and a GIN trigram index on ``word``.
SQLite: an FTS5 table with the ``trigram`` tokenizer holding the words by the
term's id (see ``articles.search.suggest``).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class VendorRunSQL(migrations.RunSQL):
    """SQL for one database vendor only; a no-op on the others (as in 0080)."""

    def __init__(self, vendor, *args, **kwargs):
        self.vendor = vendor
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return name, [self.vendor, *args], kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class PostgresTrigramExtension(TrigramExtension):
    """``pg_trgm``; Django's operation skips other databases going forwards but not backwards."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0081_backfill_search_index"),
    ]

    operations = [
        PostgresTrigramExtension(),  # a no-op on SQLite
        migrations.CreateModel(
            name="SearchTerm",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("word", models.CharField(help_text="Lower case, one word.", max_length=40, unique=True)),
            ],
            options={
                "ordering": ["word"],
            },
        ),
        VendorRunSQL(
            "postgresql",
            sql="CREATE INDEX searchterm_word_trgm ON articles_searchterm USING gin (word gin_trgm_ops)",
            reverse_sql="DROP INDEX IF EXISTS searchterm_word_trgm",
        ),
        VendorRunSQL(
            "sqlite",
            sql="CREATE VIRTUAL TABLE articles_searchterm_trigram USING fts5(word, tokenize = 'trigram')",
            reverse_sql="DROP TABLE IF EXISTS articles_searchterm_trigram",
        ),
    ]
