"""Audit entries name their actor as they were named when they acted (``actor_name``, ``actor_username``).

0105 fills the entries already recorded. On SQLite, adding or removing a column rebuilds the
table, and the rebuild drops its append-only trigger (0003): it is put back after the change, in
either direction. PostgreSQL alters the table in place and keeps its trigger.
"""

from django.db import migrations, models

SQLITE_APPEND_ONLY = """
CREATE TRIGGER IF NOT EXISTS articles_auditentry_append_only BEFORE UPDATE ON articles_auditentry
BEGIN SELECT RAISE(ABORT, 'The audit log is append-only'); END;
"""


def keep_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0103_search_trigram_indexes"),
    ]

    operations = [
        # Last when going back: after the columns are removed.
        migrations.RunPython(migrations.RunPython.noop, keep_append_only, elidable=False),
        migrations.AddField(
            model_name="auditentry",
            name="actor_name",
            field=models.CharField(
                blank=True,
                help_text="The actor's full name (else their user name) when they acted; empty for the system.",
                max_length=301,
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="actor_username",
            field=models.CharField(
                blank=True, help_text="The actor's user name when they acted; empty for the system.", max_length=150
            ),
        ),
        migrations.RunPython(keep_append_only, migrations.RunPython.noop, elidable=False),
    ]
