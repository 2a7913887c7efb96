"""Stamp each article with the last public change to it, and start the public clock."""

from django.db import migrations
from django.db.models import Max


def backfill(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    ChangeEvent = apps.get_model("articles", "ChangeEvent")
    ClinicalReview = apps.get_model("articles", "ClinicalReview")
    SymptomEntry = apps.get_model("articles", "SymptomEntry")
    ChangeFeedLock = apps.get_model("articles", "ChangeFeedLock")
    moments = {}

    def seen(article_id, moment):
        if moment is not None and (article_id not in moments or moments[article_id] < moment):
            moments[article_id] = moment

    for article_id, moment in (
        ChangeEvent.objects.values("article_id").annotate(m=Max("occurred_at")).values_list("article_id", "m")
    ):
        seen(article_id, moment)
    reviews = ClinicalReview.objects.filter(revision__published_at__isnull=False)
    for article_id, moment in (
        reviews.values("revision__article_id").annotate(m=Max("reviewed_at")).values_list("revision__article_id", "m")
    ):
        seen(article_id, moment)
    shown = SymptomEntry.objects.filter(revision__published_at__isnull=False)
    for article_id, moment in (
        shown.values("revision__article_id")
        .annotate(m=Max("symptom__updated_at"))
        .values_list("revision__article_id", "m")
    ):
        seen(article_id, moment)
    for article_id, moment in Article.objects.filter(pk__in=list(moments)).values_list("pk", "medication__updated_at"):
        seen(article_id, moment)
    for article_id, moment in moments.items():
        Article.objects.filter(pk=article_id).update(public_version=1, public_updated_at=moment)
    if moments:
        ChangeFeedLock.objects.update_or_create(
            pk=1, defaults={"public_version": 1, "public_updated_at": max(moments.values())}
        )


class Migration(migrations.Migration):
    dependencies = [("articles", "0050_public_clock")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
