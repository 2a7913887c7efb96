"""Who may change what readers see outside a revision.

Clinical reviewers get ``amend_medication`` and ``amend_symptom``: a medication's
names, class and codes and a symptom's name and description are clinical facts
that show at once on every live article using them, so the people who sign off
clinical content change them, through ``articles.services``, audited.

Authors lose the plain ``change_medication``, ``change_symptom`` and
``change_article``: those were side doors into live pages. They keep ``add_*``:
a new medication or symptom is seen by nobody until reviewed content uses it.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTED = {"Clinical reviewers": ["amend_medication", "amend_symptom"]}
REVOKED = {"Authors": ["change_medication", "change_symptom", "change_article"]}


def _permissions(apps, codenames):
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("articles")
    models_module, app_config.models_module = getattr(app_config, "models_module", None), True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="articles", codename__in=codenames))
    missing = set(codenames) - {permission.codename for permission in permissions}
    if missing:
        raise RuntimeError(f"Missing permissions: {sorted(missing)}")
    return permissions


def _apply(apps, add, remove):
    Group = apps.get_model("auth", "Group")
    for name, codenames in add.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, codenames))
    for name, codenames in remove.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, codenames))


def forwards(apps, schema_editor):
    _apply(apps, add=GRANTED, remove=REVOKED)


def backwards(apps, schema_editor):
    _apply(apps, add=REVOKED, remove=GRANTED)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0013_vocabulary_permissions_and_audit_actions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
