"""Who reads and handles reader feedback.

Every role reads the queue (authors write the fixes); clinical reviewers and
publishers, who sign off and publish content, mark feedback handled.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTED = {
    "Authors": ["view_feedback"],
    "Clinical reviewers": ["view_feedback", "handle_feedback"],
    "Publishers": ["view_feedback", "handle_feedback"],
}


def _permissions(apps, codenames):
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("feedback")
    models_module, app_config.models_module = getattr(app_config, "models_module", None), True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="feedback", codename__in=codenames))
    missing = set(codenames) - {permission.codename for permission in permissions}
    if missing:
        raise RuntimeError(f"Missing permissions: {sorted(missing)}")
    return permissions


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTED.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, codenames))


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTED.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0002_feedback_audit_append_only"),
        ("articles", "0004_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
