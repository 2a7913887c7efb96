"""A permission to change each kind of shared vocabulary, and the audit actions that record it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0012_remove_article_topic"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="medication",
            options={
                "ordering": ["generic_name"],
                "permissions": [
                    (
                        "amend_medication",
                        "Can change a medication's public details (audited; shows on live articles at once)",
                    )
                ],
            },
        ),
        migrations.AlterModelOptions(
            name="symptom",
            options={
                "ordering": ["name"],
                "permissions": [
                    ("amend_symptom", "Can change a symptom's public details (audited; shows on live articles at once)")
                ],
            },
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("create_draft", "Draft created"),
                    ("save_draft", "Draft saved"),
                    ("submit", "Submitted for review"),
                    ("request_changes", "Changes requested"),
                    ("approve", "Approved"),
                    ("schedule", "Scheduled"),
                    ("unschedule", "Schedule cancelled"),
                    ("publish", "Published"),
                    ("supersede", "Superseded"),
                    ("withdraw", "Withdrawn"),
                    ("archive", "Archived"),
                    ("confirm_review", "Reviewed, no change"),
                    ("comment", "Commented"),
                    ("update_medication", "Medication details changed"),
                    ("update_symptom", "Symptom details changed"),
                ],
                max_length=30,
            ),
        ),
    ]
