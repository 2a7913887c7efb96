"""The search index: ``SearchEntry``, and the full-text structure each database searches it by.

PostgreSQL: a GIN index on the weighted ``tsvector`` (``document``). SQLite: an
FTS5 table holding the same four texts by the entry's id (see ``articles.search``).
"""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models


class VendorRunSQL(migrations.RunSQL):
    """SQL for one database vendor only; a no-op on the others."""

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


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0075_live_tallies"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        help_text="The article's kind (see articles.kinds), to search one kind.", max_length=20
                    ),
                ),
                (
                    "names",
                    models.TextField(help_text="Weight A: the title and the medication's generic and brand names."),
                ),
                ("about", models.TextField(help_text="Weight B: the topic and the summary.")),
                ("symptoms", models.TextField(help_text="Weight C: the names and descriptions of the symptoms shown.")),
                ("body", models.TextField(help_text="Weight D: the sections' headings and text.")),
                ("document", django.contrib.postgres.search.SearchVectorField(editable=False, null=True)),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="articles.article"
                    ),
                ),
                (
                    "revision",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="articles.revision"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "search entries",
            },
        ),
        VendorRunSQL(
            "postgresql",
            sql="CREATE INDEX searchentry_document_gin ON articles_searchentry USING gin (document)",
            reverse_sql="DROP INDEX IF EXISTS searchentry_document_gin",
        ),
        VendorRunSQL(
            "sqlite",
            # Porter stemming over Unicode words, as PostgreSQL's English configuration stems.
            sql=(
                "CREATE VIRTUAL TABLE articles_searchentry_fts USING fts5("
                "names, about, symptoms, body, tokenize = 'porter unicode61 remove_diacritics 2')"
            ),
            reverse_sql="DROP TABLE IF EXISTS articles_searchentry_fts",
        ),
    ]
