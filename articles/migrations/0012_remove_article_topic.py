"""The article no longer holds the topic: revisions do (``0010``, ``0011``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0011_copy_article_topic_into_revisions"),
    ]

    operations = [
        # A default first, so that going backwards can add the column to existing rows
        # (empty; 0011 then fills it from the revisions).
        migrations.AlterField(
            model_name="article",
            name="topic",
            field=models.CharField(default="", max_length=200),
        ),
        migrations.RemoveField(model_name="article", name="topic"),
    ]
