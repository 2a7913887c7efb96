"""Indexes of Django's admin log for the two admin pages that read it, which the workflow fills (``services._admin_log``:
an entry for every step of every revision).

Django indexes ``django_admin_log`` by content type and by user alone: a revision's "History" (its entries, by content
type and object id) read the entries of every revision of the library, and each home page's "Recent actions" (the
user's latest 10) every entry the user ever made. At 100,000 articles and 300,000 entries: 0.08 s twice and 0.2 s.
"""

from django.db import migrations

INDEXES = {
    # ``ModelAdmin.history_view``: one object's entries, oldest first.
    "admin_log_object_history": ("content_type_id", "object_id", "action_time"),
    # ``{% get_admin_log 10 as admin_log for_user user %}``: the user's latest entries.
    "admin_log_user_latest": ("user_id", "action_time"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("articles", "0107_vocabulary_name_key"),
    ]

    # Django's own table, which its models declare no such index on: SQL, not AddIndex (which would change its model).
    operations = [
        migrations.RunSQL(
            sql=[
                f'CREATE INDEX IF NOT EXISTS "{index}" ON "django_admin_log" ({", ".join(columns)})'
                for index, columns in INDEXES.items()
            ],
            reverse_sql=[f'DROP INDEX IF EXISTS "{index}"' for index in INDEXES],
        )
    ]
