"""Store the pages of live articles whose stored page is missing or stale: ``manage.py store_article_pages``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from articles.stored_pages import stale_article_ids, store_pages
from contentsite.management.cron import CronCommand

# Pages rendered per batch: each batch finds the next stale articles afresh, after the last one's.
BATCH = 200


class Command(CronCommand):
    help = (
        "Render and store the pages of live articles whose stored page is missing or stale (a change naming many "
        "articles, a scheduled publication's time, a review falling overdue, a new release, rows written around the "
        "services). Run it from cron every minute: readers render such a page themselves until it has run. Safe to "
        "run from several machines at once and any number of times (the newest rendering of a page is the one kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=10_000, help="Store at most this many pages in this run (default 10,000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if limit < 1:
            raise CommandError(f"--limit must be 1 or more (got {limit}); nothing was stored.")
        stored = seen = 0
        after = 0
        while seen < limit:
            batch = stale_article_ids(min(BATCH, limit - seen), after=after)
            if not batch:
                break
            stored += store_pages(batch)
            seen += len(batch)
            after = batch[-1]  # on by id: an article whose page cannot be stored is not taken again in this run
        self.stdout.write(f"Stored {stored} article pages.")
