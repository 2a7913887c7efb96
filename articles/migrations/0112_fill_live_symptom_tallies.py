"""Live symptom tallies: which symptoms live content shows, counted from the recorded live revisions."""

from django.db import migrations

from articles.models.tallies import fill_live_symptom_tallies


def symptom_references(apps):
    """Every kind of content row that shows a symptom, found among ``apps``' models as
    ``articles.models.symptom_references`` finds them among today's."""
    Revision = apps.get_model("articles", "Revision")
    Symptom = apps.get_model("articles", "Symptom")
    references = []
    for relation in Revision._meta.related_objects:
        if not relation.one_to_many or relation.field.name != "revision":
            continue
        for field in relation.related_model._meta.concrete_fields:
            if field.many_to_one and field.related_model is Symptom:
                references.append((relation.related_model, field.name))
    return references


def fill(apps, schema_editor):
    fill_live_symptom_tallies(
        apps.get_model("articles", "Article"),
        apps.get_model("articles", "Revision"),
        apps.get_model("articles", "LiveSymptomTally"),
        symptom_references(apps),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0111_live_symptom_tallies"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
