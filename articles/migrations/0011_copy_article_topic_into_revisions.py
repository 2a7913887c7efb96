"""Copy each article's topic into every one of its revisions.

The stored content hashes and approvals are left exactly as the reviewers signed
them: a signature is never rewritten. Those hashes were computed without the
topic, so a revision submitted, approved or published before this migration no
longer matches its hash: approving, publishing or confirming it is refused until
a new draft (copied from it) goes through review with the topic in it. Live pages
stay as they are meanwhile. See "What readers and partners see" in the README.

Backwards, each article takes the topic of its latest revision.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def copy_topics(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    for article_id, topic in Article.objects.values_list("pk", "topic").iterator():
        Revision.objects.filter(article_id=article_id).update(topic=topic)


def restore_article_topics(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    latest = Revision.objects.filter(article_id=OuterRef("pk")).order_by("-number").values("topic")[:1]
    Article.objects.update(topic=Subquery(latest))


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0010_revision_topic"),
    ]

    operations = [migrations.RunPython(copy_topics, restore_article_topics)]
