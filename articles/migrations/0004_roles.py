"""The three editorial roles as groups, with one permission per workflow transition."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Authors": [
        "view_medication",
        "add_medication",
        "change_medication",
        "view_symptom",
        "add_symptom",
        "change_symptom",
        "view_article",
        "add_article",
        "change_article",
        "view_revision",
        "add_revision",
        "change_revision",
        "submit_revision",
        "archive_revision",
        "view_comparisontable",
        "change_comparisontable",
        "view_reviewcomment",
        "add_reviewcomment",
        "view_auditentry",
    ],
    "Clinical reviewers": [
        "view_medication",
        "view_symptom",
        "view_article",
        "view_revision",
        "request_changes_revision",
        "approve_revision",
        "confirm_review_revision",
        "view_comparisontable",
        "view_reviewcomment",
        "add_reviewcomment",
        "view_auditentry",
        "view_reviewqueueitem",
        "view_overduereview",
    ],
    "Publishers": [
        "view_medication",
        "view_symptom",
        "view_article",
        "view_revision",
        "publish_revision",
        "withdraw_revision",
        "archive_revision",
        "view_comparisontable",
        "view_reviewcomment",
        "add_reviewcomment",
        "view_auditentry",
        "view_overduereview",
        "view_scheduledpublication",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("articles")
    models_module, app_config.models_module = getattr(app_config, "models_module", None), True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="articles", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Missing permissions for {name}: {sorted(missing)}")
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_audit_log_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
