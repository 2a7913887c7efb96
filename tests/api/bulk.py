"""Many live articles at once, written directly: for read-cost tests, not for workflow tests."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from articles.live import public_change
from articles.models import (
    Article,
    ChangeEvent,
    ClinicalReview,
    Medication,
    Reference,
    Revision,
    RevisionState,
    Section,
    Symptom,
    SymptomEntry,
    fill_live_symptom_tallies,
    fill_live_tallies,
)
from articles.search import index_articles

BATCH = 5000


def live_articles(count: int, *, medication: Medication, reviewer: object, prefix: str = "bulk") -> list[Revision]:
    """``count`` live articles, stamped on the public clock as if published through the services."""
    with transaction.atomic():
        revisions = _live_articles(count, medication=medication, reviewer=reviewer, prefix=prefix)
        public_change([revision.article_id for revision in revisions])
        index_articles(revision.article_id for revision in revisions)  # as the services index
        analyzed(LIVE_ARTICLES_TABLES)
    return revisions


def _live_articles(count: int, *, medication: Medication, reviewer: object, prefix: str) -> list[Revision]:
    now = timezone.now()
    symptom, _ = Symptom.objects.get_or_create(
        slug=f"{prefix}-symptom",
        defaults={"name": f"{prefix} symptom", "description": "D.", "snomed_ct_code": "123456"},
    )
    articles = Article.objects.bulk_create(
        (Article(slug=f"{prefix}-{n:04d}", medication=medication, public_updated_at=now) for n in range(count)),
        batch_size=BATCH,
    )
    revisions = Revision.objects.bulk_create(
        (
            Revision(
                article=article,
                number=1,
                state=RevisionState.PUBLISHED,
                title=f"Title {article.slug}",
                topic="Topic",
                summary="Summary.",
                change_summary="First.",
                published_at=now,
                content_hash="0" * 64,
                review_due=now.date(),  # its review's, below (``ClinicalReview.save`` keeps it; bulk_create does not)
            )
            for article in articles
        ),
        batch_size=BATCH,
    )
    Section.objects.bulk_create(
        (
            Section(revision=revision, key=f"s{n}", position=n, heading=f"H{n}", body=f"Body [@r]. {n}")
            for revision in revisions
            for n in (1, 2)
        ),
        batch_size=BATCH,
    )
    Reference.objects.bulk_create(
        (
            Reference(
                revision=revision,
                key="r",
                position=1,
                publication_type="web_page",
                title="T",
                url="https://example.org/",
            )
            for revision in revisions
        ),
        batch_size=BATCH,
    )
    SymptomEntry.objects.bulk_create(
        (SymptomEntry(revision=revision, symptom=symptom, key="e", position=1, text="T.") for revision in revisions),
        batch_size=BATCH,
    )
    ClinicalReview.objects.bulk_create(
        (
            ClinicalReview(
                revision=revision,
                kind="approval",
                reviewer=reviewer,
                reviewer_name="Dr R",
                reviewer_credentials="MBBS",
                next_review_due=now.date(),
                content_hash="0" * 64,
            )
            for revision in revisions
        ),
        batch_size=BATCH,
    )
    ChangeEvent.objects.bulk_create(
        (
            ChangeEvent(article=revision.article, revision=revision, kind="published", occurred_at=now)
            for revision in revisions
        ),
        batch_size=BATCH,
    )
    return revisions


def library(count: int, *, reviewer: object, medications: int = 50, prefix: str = "lib") -> None:
    """``count`` live articles over ``medications`` medications, every 200th with a scheduled next revision:
    a library of a realistic shape, for query plans (``tests/api/test_plans.py``)."""
    per = max(1, count // medications)
    for m in range(medications):
        medication, _ = Medication.objects.get_or_create(
            slug=f"{prefix}-med-{m:02d}",
            defaults={"generic_name": f"{prefix} medication {m:02d}", "rxnorm_rxcui": f"{990000 + m}"},
        )
        revisions = live_articles(per, medication=medication, reviewer=reviewer, prefix=f"{prefix}-{m:02d}")
        soon = timezone.now() + datetime.timedelta(days=1 + m)
        Revision.objects.bulk_create(
            (
                Revision(
                    article_id=live.article_id,
                    number=2,
                    state=RevisionState.SCHEDULED,
                    title=live.title,
                    topic=live.topic,
                    summary=live.summary,
                    change_summary="Scheduled.",
                    content_hash="1" * 64,
                    publish_at=soon,
                )
                for live in revisions[::200]
            ),
            batch_size=BATCH,
        )


def sql_library(count: int, *, reviewer: Any, medications: int = 50, prefix: str = "sql") -> None:
    """``count`` live articles in a few ``INSERT ... SELECT generate_series`` statements (PostgreSQL only).

    Just what the list, its filters, the lookup and the feed read (no sections or
    references): seconds for tens of thousands, for query-plan tests.
    Every 200th article has a scheduled next revision. Stamped and counted (``LiveTally``, ``LiveSymptomTally``)
    like a publication.
    """
    per = max(1, count // medications)
    symptom, _ = Symptom.objects.get_or_create(
        slug=f"{prefix}-symptom",
        defaults={"name": f"{prefix} symptom", "description": "D.", "snomed_ct_code": "123456"},
    )
    Medication.objects.bulk_create(
        Medication(
            slug=f"{prefix}-med-{m:02d}", generic_name=f"{prefix} medication {m:02d}", rxnorm_rxcui=f"{980000 + m}"
        )
        for m in range(medications)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO articles_article (slug, kind, medication_id, created_at, public_version, public_updated_at)
            SELECT %s || '-' || lpad(n::text, 6, '0'), 'article', m.id, now(), 1, now() - interval '30 days'
            FROM generate_series(0, %s - 1) AS n
            JOIN articles_medication m ON m.slug = %s || '-med-' || lpad((n %% %s)::text, 2, '0')""",
            [prefix, per * medications, prefix, medications],
        )
        cursor.execute(
            """INSERT INTO articles_revision (article_id, number, state, title, topic, summary, change_summary,
                created_at, updated_at, lock_version, content_hash, published_at, review_due)
            SELECT a.id, 1, 'published', 'Title ' || a.slug, 'Topic', 'Summary.', 'First.', now(), now(), 0,
                repeat('0', 64), now() - interval '30 days', current_date
            FROM articles_article a WHERE a.slug LIKE %s""",
            [f"{prefix}-%"],
        )
        # Counted as ``public_change`` counts a publication (``LiveTally``): the vocabulary lists read the tallies.
        cursor.execute("UPDATE articles_article SET tallied_topic = 'Topic' WHERE slug LIKE %s", [f"{prefix}-%"])
        cursor.execute(
            """INSERT INTO articles_livetally (kind, medication_id, topic, count)
            SELECT 'article', medication_id, 'Topic', count(*) FROM articles_article WHERE slug LIKE %s
            GROUP BY medication_id""",
            [f"{prefix}-%"],
        )
        cursor.execute(
            """INSERT INTO articles_revision (article_id, number, state, title, topic, summary, change_summary,
                created_at, updated_at, lock_version, content_hash, publish_at)
            SELECT a.id, 2, 'scheduled', 'Title ' || a.slug, 'Topic', 'Summary.', 'Next.', now(), now(), 0,
                repeat('1', 64), now() + interval '1 day'
            FROM articles_article a WHERE a.slug LIKE %s AND a.id %% 200 = 0""",
            [f"{prefix}-%"],
        )
        cursor.execute(
            """INSERT INTO articles_symptomentry (revision_id, symptom_id, key, position, text, frequency_band,
                frequency_source)
            SELECT r.id, %s, 'e', 1, 'T.', '', ''
            FROM articles_revision r JOIN articles_article a ON a.id = r.article_id
            WHERE a.slug LIKE %s AND r.state = 'published'""",
            [symptom.pk, f"{prefix}-%"],
        )
        # Counted by their live revisions' symptoms as ``public_change`` counts them (``LiveSymptomTally``).
        cursor.execute(
            """UPDATE articles_article a SET tallied_revision_id = r.id FROM articles_revision r
            WHERE r.article_id = a.id AND r.state = 'published' AND a.slug LIKE %s""",
            [f"{prefix}-%"],
        )
        cursor.execute(
            """INSERT INTO articles_livesymptomtally (kind, symptom_id, count)
            SELECT 'article', %s, count(*) FROM articles_article WHERE slug LIKE %s""",
            [symptom.pk, f"{prefix}-%"],
        )
        cursor.execute(
            """INSERT INTO articles_changeevent (article_id, revision_id, kind, occurred_at)
            SELECT r.article_id, r.id, 'published', r.published_at FROM articles_revision r
            JOIN articles_article a ON a.id = r.article_id WHERE a.slug LIKE %s AND r.state = 'published'
            ORDER BY a.id""",
            [f"{prefix}-%"],
        )
        cursor.execute(
            """INSERT INTO articles_clinicalreview (revision_id, reviewer_id, kind, reviewer_name, reviewer_credentials,
                reviewer_is_demonstration, reviewed_at, next_review_due, content_hash, acknowledged_warnings, comment)
            SELECT r.id, %s, 'approval', 'Dr R', 'MBBS', false, r.published_at, current_date, r.content_hash, '[]', ''
            FROM articles_revision r JOIN articles_article a ON a.id = r.article_id
            WHERE a.slug LIKE %s AND r.state = 'published'""",
            [reviewer.pk, f"{prefix}-%"],
        )
    analyzed(BULK_TABLES)


# The tables ``sql_library`` loads.
BULK_TABLES = tuple(
    f"articles_{table}"
    for table in (
        "medication",
        "symptom",
        "article",
        "revision",
        "livetally",
        "livesymptomtally",
        "symptomentry",
        "changeevent",
        "clinicalreview",
    )
)
# The tables ``live_articles`` loads.
LIVE_ARTICLES_TABLES = tuple(
    f"articles_{table}"
    for table in ("article", "revision", "section", "reference", "symptomentry", "clinicalreview", "changeevent")
)
# Tables loaded in bulk by the test running now: vacuumed once its transaction is rolled back (``vacuum_loaded``).
LOADED: set[str] = set()


def analyzed(tables: Sequence[str]) -> None:
    """Tell the planner what was just loaded into ``tables`` (PostgreSQL), as autovacuum would in production, and
    have them vacuumed once the test is over (``vacuum_loaded``).

    Besides the plans of the test's own queries, ``ANALYZE`` makes PostgreSQL plan its foreign-key checks again.
    Each kind of check is planned once per connection: planned while earlier tests' tables were small, it stayed a
    whole-table scan per row, and the deferred checks at the end of the sitemap test (50,001 articles) took 221 s
    in CI instead of under a second (``tests/api/test_bulk_loads.py``).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(tables))
    LOADED.update(tables)


# Tables whose autovacuum the test running now turned off (``hold_autovacuum``): turned back on once its transaction is
# rolled back (``vacuum_loaded``).
AUTOVACUUM_HELD: set[str] = set()


def hold_autovacuum(tables: Sequence[str]) -> None:
    """Keep autovacuum off ``tables`` until the test is over (PostgreSQL): its workers analyse a table from outside the
    test's transaction, and would write statistics of the table without the test's rows over those the test's own
    ``ANALYZE`` gave (``analyzed``). Set on a connection of its own, committed at once, so that the workers see it."""
    if connection.vendor != "postgresql":
        return
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as own:
        for table in tables:
            own.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    AUTOVACUUM_HELD.update(tables)


def vacuum_loaded() -> None:
    """``VACUUM ANALYZE`` the tables a test loaded in bulk, once its rows are rolled back (PostgreSQL), on the test
    database's own connection, back in autocommit by then (VACUUM runs in no transaction).

    Found in CI: a rollback leaves the 20,000 rows dead in the tables' pages, and ``ANALYZE``'s row counts (kept
    in place, not rolled back) said they were there; the next tests' queries read every dead page, and the
    workflow state machine, later in the same run, took 677 s instead of 78. Vacuumed, the tables are as small as
    before the load, and the planner knows it.
    """
    held = sorted(AUTOVACUUM_HELD)
    AUTOVACUUM_HELD.clear()
    if held:
        with connection.cursor() as cursor:
            for table in held:
                cursor.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")
    if not LOADED:
        return
    tables = sorted(LOADED)
    LOADED.clear()
    assert not connection.in_atomic_block, "vacuumed inside the test's transaction: its rows are not dead yet"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE " + ", ".join(tables))


def live_listings(
    count: int,
    *,
    medications: Sequence[Medication],
    topics: Sequence[str] = ("Topic",),
    prefix: str = "listed",
    batch_size: int = 5000,
) -> None:
    """``count`` live articles with only what lists show (an article and its live revision), fast.

    Spread over ``medications`` and ``topics`` in turn; stamped on the public clock
    as a publication through the services would be. For list and sitemap tests at
    tens of thousands of articles.
    """
    now = timezone.now()
    for start in range(0, count, batch_size):
        numbers = range(start, min(count, start + batch_size))
        articles = Article.objects.bulk_create(
            (Article(slug=f"{prefix}-{n:06d}", medication=medications[n % len(medications)]) for n in numbers),
            batch_size=batch_size,
        )
        Revision.objects.bulk_create(
            (
                Revision(
                    article=article,
                    number=1,
                    state=RevisionState.PUBLISHED,
                    title=f"Title {article.slug}",
                    topic=topics[n % len(topics)],
                    summary="Summary.",
                    published_at=now,
                    content_hash="0" * 64,
                )
                for n, article in zip(numbers, articles, strict=True)
            ),
            batch_size=batch_size,
        )
    _made_public(Article.objects.filter(slug__startswith=f"{prefix}-"))
    analyzed(("articles_article", "articles_revision"))


def _made_public(articles: Iterable[int] | QuerySet[Article]) -> None:
    """Stamp the articles on the public clock and count them live, as the services do when they publish.

    Counted from scratch in a few set-wise queries (as ``rebuild_live_tallies`` does), not article by article.
    """
    with transaction.atomic():
        public_change(articles, keys=("bulk",), live_set_changed=False)
        fill_live_tallies()
        fill_live_symptom_tallies()


def sql_symptom_vocabulary(cursor: Any) -> None:
    """300 more symptoms (``other-1`` ... ``other-300``, SNOMED CT 700001 ...), each shown by a few of the live
    revisions ``sql_library`` made, then ANALYZE: a vocabulary of a few hundred, for plan tests (PostgreSQL only)."""
    cursor.execute(
        "INSERT INTO articles_symptom (name_key, slug, name, description, snomed_ct_code, updated_at)"
        " SELECT 'other ' || n, 'other-' || n, 'Other ' || n, 'D.', (700000 + n)::text, now()"
        " FROM generate_series(1, 300) AS n"
    )
    cursor.execute(
        "INSERT INTO articles_symptomentry (revision_id, symptom_id, key, position, text, frequency_band,"
        " frequency_source) SELECT r.id, s.id, 'other', 2, 'T.', '', '' FROM articles_revision r"
        " JOIN articles_symptom s ON s.slug LIKE 'other-%' WHERE r.state = 'published'"
        " AND (r.id + s.id) % 2100 = 0"
    )
    cursor.execute(  # counted as ``public_change`` counts them (``LiveSymptomTally``)
        "INSERT INTO articles_livesymptomtally (kind, symptom_id, count) SELECT a.kind, e.symptom_id, count(*)"
        " FROM articles_symptomentry e JOIN articles_article a ON a.tallied_revision_id = e.revision_id"
        " JOIN articles_symptom s ON s.id = e.symptom_id WHERE s.slug LIKE 'other-%' GROUP BY a.kind, e.symptom_id"
    )
    cursor.execute("ANALYZE")
