"""The topic becomes part of each revision (reviewed, inside its content hash).

Schema only: the column, empty for now. ``0011`` copies each article's topic into
all its revisions; ``0012`` drops the article's column.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0009_anchor_code_validators_at_end_of_string"),
    ]

    operations = [
        migrations.AddField(
            model_name="revision",
            name="topic",
            field=models.CharField(
                default="",
                help_text="The condition or effect the article is about, e.g. 'Peripheral neuropathy'. Reviewed with the rest.",
                max_length=200,
            ),
            preserve_default=False,
        ),
    ]
