"""Live tallies: counts of live articles kept by the writers, filled from the recorded live revisions."""

import django.db.models.deletion
from django.db import migrations, models

from articles.models.tallies import fill_live_tallies


def fill(apps, schema_editor):
    fill_live_tallies(
        apps.get_model("articles", "Article"),
        apps.get_model("articles", "Revision"),
        apps.get_model("articles", "LiveTally"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0070_article_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="tallied_topic",
            field=models.CharField(blank=True, editable=False, max_length=200, null=True),
        ),
        migrations.CreateModel(
            name="LiveTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=20)),
                ("topic", models.CharField(max_length=200)),
                ("count", models.PositiveIntegerField()),
                (
                    "medication",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="articles.medication"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "medication", "topic"), name="livetally_unique_key"),
                    models.CheckConstraint(condition=models.Q(("count__gte", 0)), name="livetally_count_not_negative"),
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
