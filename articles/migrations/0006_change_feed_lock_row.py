"""The change feed's lock row, and the feed's history so far.

Revisions already published before the feed existed get one "published"
event each (and "withdrawn" ones their withdrawal), so a partner replaying
the feed from the start sees every live article.
"""

from django.db import migrations


def forward(apps, schema_editor):
    ChangeFeedLock = apps.get_model("articles", "ChangeFeedLock")
    ChangeEvent = apps.get_model("articles", "ChangeEvent")
    Revision = apps.get_model("articles", "Revision")
    ChangeFeedLock.objects.get_or_create(pk=1)
    for revision in Revision.objects.filter(published_at__isnull=False).order_by("published_at", "pk"):
        ChangeEvent.objects.create(
            article_id=revision.article_id, revision=revision, kind="published", occurred_at=revision.published_at
        )
        if revision.state in {"superseded", "withdrawn"}:
            ChangeEvent.objects.create(
                article_id=revision.article_id,
                revision=revision,
                kind=revision.state,
                occurred_at=revision.updated_at,
            )


def backward(apps, schema_editor):
    apps.get_model("articles", "ChangeEvent").objects.all().delete()
    apps.get_model("articles", "ChangeFeedLock").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("articles", "0005_change_feed")]

    operations = [migrations.RunPython(forward, backward)]
