"""Bring the text of editable pathway drafts into the form every boundary now gives it.

The same rules and the same reasons as ``articles.0021_normalise_existing_text``
(whose functions this uses, as they were when it landed): only drafts that can
still be edited change, each with an audit entry; submitted, approved and
published pathways are left exactly as reviewed.
"""

from importlib import import_module

from django.db import migrations

articles_migration = import_module("articles.migrations.0021_normalise_existing_text")
LINE, BLOCK = True, False

PATHWAY_ROWS = (
    ("Question", {"text": LINE, "help_text": BLOCK, "source": LINE}, "revision", "questions"),
    ("AnswerOption", {"label": LINE}, "question__revision", "questions"),
    ("Disposition", {"title": LINE, "advice": BLOCK, "safety_netting": BLOCK}, "revision", "dispositions"),
    ("Rule", {"description": LINE}, "revision", "rules"),
    ("Vignette", {"title": LINE, "rationale": BLOCK}, "revision", "vignettes"),
)


def normalise_existing_text(apps, schema_editor):
    changes = {}
    for model_name, fields, revision_path, label in PATHWAY_ROWS:
        articles_migration.normalise_rows(apps, "triage", model_name, fields, revision_path, label, changes)
    articles_migration.record_changes(apps, changes, "Pathway text")


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0021_normalise_existing_text"),
        ("triage", "0020_text_field_limits"),
    ]

    operations = [
        migrations.RunPython(normalise_existing_text, migrations.RunPython.noop, elidable=False),
    ]
