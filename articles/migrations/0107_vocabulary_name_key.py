"""Each medication and symptom keeps the key its name is told apart by (``articles.text.lookalike_key``), unique.

A name differing from another only in case, spacing, compatibility forms or invisible characters ("Amlodipine" and
"Amlodipine" + U+200D ZERO WIDTH JOINER) made a second entry nobody could tell from the first. Existing entries get
their key here, the first by id of any lookalikes; a later lookalike keeps none (NULL) and stays as it was, for an
administrator to merge: a migration never renames clinical vocabulary.

The key is computed as ``articles.text.lookalike_key`` did when this was written (frozen here).
"""

import hashlib
import unicodedata

from django.db import migrations, models

KEPT_FORMAT_CHARACTERS = frozenset("\u00ad\u061c\u200c\u200d\u200e\u200f")


def lookalike_key(value):
    text = unicodedata.normalize("NFKC", value)
    text = "".join(character for character in text if character not in KEPT_FORMAT_CHARACTERS)
    text = " ".join(unicodedata.normalize("NFKC", text.casefold()).split())
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fill(apps, schema_editor):
    for model_name, name_field in (("Medication", "generic_name"), ("Symptom", "name")):
        model = apps.get_model("articles", model_name)
        seen = set()
        for pk, name in model.objects.order_by("pk").values_list("pk", name_field).iterator():
            key = lookalike_key(name)
            if key in seen:
                continue
            seen.add(key)
            model.objects.filter(pk=pk).update(name_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0106_auditentry_search_trigram_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="medication",
            name="name_key",
            field=models.CharField(
                editable=False,
                help_text="lookalike_key of the name (set on save).",
                max_length=64,
                null=True,
                unique=True,
            ),
        ),
        migrations.AddField(
            model_name="symptom",
            name="name_key",
            field=models.CharField(
                editable=False,
                help_text="lookalike_key of the name (set on save).",
                max_length=64,
                null=True,
                unique=True,
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
