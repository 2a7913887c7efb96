from django.core.management.base import BaseCommand
from django.db import transaction

from articles.models import Article
from articles.search import BATCH, index_articles


class Command(BaseCommand):
    help = (
        "Rewrite the search index of every article from its published and scheduled revisions. "
        "Idempotent, and safe to run from several machines at once and while editors work: each batch "
        "takes the articles' locks (in the services' order, ``in_lock_order``) before rewriting their entries."
    )

    def handle(self, *args: object, **options: object) -> None:
        ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                locked = list(
                    Article.objects.select_for_update().filter(pk__in=ids[start : start + BATCH]).in_lock_order()
                )
                index_articles(article.pk for article in locked)
        self.stdout.write(f"Indexed {len(ids)} articles.")
