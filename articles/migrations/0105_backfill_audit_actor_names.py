"""Name the actor of each audit entry recorded before 0104, from the account as it is named at migration time.

Entries recorded from 0104 on carry the names their actor had when they acted. Those recorded
before carried none: the admin showed each account's name of the day. Nothing recorded what an
account was called before a rename, so these entries get the names their accounts have when
this migration runs, which may be later names than they had then (the README says so under
"Who did what, as they were named then"). A reviewer's public name and credentials at each
review were kept all along in its review record (``ClinicalReview``).

The log is append-only, guarded by a trigger (0003): the trigger is dropped for the back-fill
and made again in the same transaction, so no other change can slip through meanwhile.
Going back leaves the names (0104's reversal removes their columns).
"""

from django.conf import settings
from django.db import migrations

POSTGRESQL_DROP = "DROP TRIGGER articles_auditentry_append_only ON articles_auditentry;"
POSTGRESQL_CREATE = """
CREATE TRIGGER articles_auditentry_append_only
    BEFORE UPDATE OR DELETE ON articles_auditentry
    FOR EACH ROW EXECUTE FUNCTION articles_auditentry_append_only();
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS articles_auditentry_append_only;"
SQLITE_CREATE = """
CREATE TRIGGER articles_auditentry_append_only BEFORE UPDATE ON articles_auditentry
BEGIN SELECT RAISE(ABORT, 'The audit log is append-only'); END;
"""
TRIGGER = {"postgresql": (POSTGRESQL_DROP, POSTGRESQL_CREATE), "sqlite": (SQLITE_DROP, SQLITE_CREATE)}


def name_the_actors(apps, schema_editor):
    AuditEntry = apps.get_model("articles", "AuditEntry")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    drop, create = TRIGGER.get(schema_editor.connection.vendor, ("", ""))
    if drop:
        schema_editor.execute(drop)
    unnamed = AuditEntry.objects.filter(actor__isnull=False, actor_username="")
    # One update per account (a few hundred staff), through the index on actor_id.
    for user in User.objects.filter(pk__in=unnamed.values("actor_id")).iterator():
        full_name = f"{user.first_name} {user.last_name}".strip()  # as AbstractUser.get_full_name()
        unnamed.filter(actor_id=user.pk).update(actor_name=full_name or user.username, actor_username=user.username)
    if create:
        schema_editor.execute(create)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0104_auditentry_actor_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(name_the_actors, migrations.RunPython.noop, elidable=False)]
