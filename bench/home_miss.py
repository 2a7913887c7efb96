"""The home page's miss at 100,000 live articles: ``python -m bench.home_miss [count]``.

Figures, not pass/fail. Fills a fresh database (SQLite in a temporary file, or
DATABASE_URL: point it at a scratch one) with ``count`` live articles over 300
medicines and 200 topics, a few due scheduled publications, then times the home
page with the cache cleared before each request (every public change makes the
next request a miss), next to the per-article aggregate it replaced.
"""

from __future__ import annotations

import io
import sys
import time

from bench.__main__ import _setup, timed


def main(count: int) -> None:
    _setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from articles.models import ArticleKind, LiveTally, Medication, Revision, RevisionState, fill_live_tallies
    from tests.api.bulk import live_listings

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    if not Revision.objects.filter(article__slug__startswith="homebench-").exists():
        medications = [
            Medication.objects.get_or_create(slug=f"homebench-{n}", defaults={"generic_name": f"Homebench {n:03d}"})[0]
            for n in range(300)
        ]
        started = time.perf_counter()
        live_listings(count, medications=medications, topics=[f"Topic {n}" for n in range(200)], prefix="homebench")
        print(f"  loaded {count:,} live articles in {time.perf_counter() - started:.1f} s")
        # Ten scheduled publications that have fallen due but are not recorded yet.
        due = timezone.now() - timezone.timedelta(minutes=1)
        for revision in Revision.objects.filter(article__slug__startswith="homebench-")[:10]:
            Revision.objects.create(
                article_id=revision.article_id,
                number=2,
                state=RevisionState.SCHEDULED,
                title=revision.title,
                topic="Topic due",
                summary="S.",
                publish_at=due,
                content_hash="0" * 64,
            )
    client = Client()

    def miss() -> None:
        cache.clear()
        assert client.get("/").status_code == 200

    with CaptureQueriesContext(connection) as queries:
        miss()
    print(f"  home page miss: {len(queries)} queries")
    timed("home page miss (tallies)", miss, repeat=20)
    live = Revision.objects.published().articles()
    kind = ArticleKind.ARTICLE
    timed(
        "  of which: counts from the tallies",
        lambda: (LiveTally.objects.count_by_medication(kind), LiveTally.objects.count_by_topic(kind)),
        repeat=20,
    )
    timed(
        "  before: counts aggregated over live revisions",
        lambda: (live.count_by_medication(), list(live.count_by_topic())),
        repeat=5,
    )

    def rebuild() -> None:
        with transaction.atomic():
            fill_live_tallies()

    timed("rebuild_live_tallies (fill from scratch)", rebuild, repeat=3)
    call_command("rebuild_live_tallies", stdout=io.StringIO())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
