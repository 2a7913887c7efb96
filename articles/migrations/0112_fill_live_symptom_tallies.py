"""Live symptom tallies: which symptoms live content shows, counted from the recorded live revisions."""

from django.db import migrations

from articles.models.tallies import fill_live_symptom_tallies
from articles.search import symptom_references_in


def fill(apps, schema_editor):
    fill_live_symptom_tallies(
        apps.get_model("articles", "Article"),
        apps.get_model("articles", "Revision"),
        apps.get_model("articles", "LiveSymptomTally"),
        symptom_references_in(apps),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0111_live_symptom_tallies"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
