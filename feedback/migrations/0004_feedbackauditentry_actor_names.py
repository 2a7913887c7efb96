"""Feedback audit entries name their actor as they were named when they acted (as articles 0104).

0005 fills the entries already recorded. On SQLite, adding or removing a column rebuilds the
table, and the rebuild drops its append-only trigger (0002): it is put back after the change, in
either direction. PostgreSQL alters the table in place and keeps its trigger.
"""

from django.db import migrations, models

SQLITE_APPEND_ONLY = """
CREATE TRIGGER IF NOT EXISTS feedback_feedbackauditentry_append_only BEFORE UPDATE ON feedback_feedbackauditentry
BEGIN SELECT RAISE(ABORT, 'The feedback audit log is append-only'); END;
"""


def keep_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0003_grant_feedback_permissions"),
    ]

    operations = [
        # Last when going back: after the columns are removed.
        migrations.RunPython(migrations.RunPython.noop, keep_append_only, elidable=False),
        migrations.AddField(
            model_name="feedbackauditentry",
            name="actor_name",
            field=models.CharField(
                default="", help_text="The actor's full name (else their user name) when they acted.", max_length=301
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="feedbackauditentry",
            name="actor_username",
            field=models.CharField(default="", help_text="The actor's user name when they acted.", max_length=150),
            preserve_default=False,
        ),
        migrations.RunPython(keep_append_only, migrations.RunPython.noop, elidable=False),
    ]
