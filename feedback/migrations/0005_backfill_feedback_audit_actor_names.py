"""Name the actor of each feedback audit entry recorded before 0004, from the account as named at migration time.

As articles 0105: nothing recorded what an account was called before a rename, so entries
recorded before 0004 get the names their accounts have when this migration runs. The log is
append-only, guarded by a trigger (0002): it is dropped for the back-fill and made again in
the same transaction. Going back leaves the names (0004's reversal removes their columns).
"""

from django.conf import settings
from django.db import migrations

POSTGRESQL_DROP = "DROP TRIGGER feedback_feedbackauditentry_append_only ON feedback_feedbackauditentry;"
POSTGRESQL_CREATE = """
CREATE TRIGGER feedback_feedbackauditentry_append_only
    BEFORE UPDATE OR DELETE ON feedback_feedbackauditentry
    FOR EACH ROW EXECUTE FUNCTION feedback_feedbackauditentry_append_only();
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS feedback_feedbackauditentry_append_only;"
SQLITE_CREATE = """
CREATE TRIGGER feedback_feedbackauditentry_append_only BEFORE UPDATE ON feedback_feedbackauditentry
BEGIN SELECT RAISE(ABORT, 'The feedback audit log is append-only'); END;
"""
TRIGGER = {"postgresql": (POSTGRESQL_DROP, POSTGRESQL_CREATE), "sqlite": (SQLITE_DROP, SQLITE_CREATE)}


def name_the_actors(apps, schema_editor):
    FeedbackAuditEntry = apps.get_model("feedback", "FeedbackAuditEntry")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    drop, create = TRIGGER.get(schema_editor.connection.vendor, ("", ""))
    if drop:
        schema_editor.execute(drop)
    unnamed = FeedbackAuditEntry.objects.filter(actor_username="")
    for user in User.objects.filter(pk__in=unnamed.values("actor_id")).iterator():
        full_name = f"{user.first_name} {user.last_name}".strip()  # as AbstractUser.get_full_name()
        unnamed.filter(actor_id=user.pk).update(actor_name=full_name or user.username, actor_username=user.username)
    if create:
        schema_editor.execute(create)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0004_feedbackauditentry_actor_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(name_the_actors, migrations.RunPython.noop, elidable=False)]
