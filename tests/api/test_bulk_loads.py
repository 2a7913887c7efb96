"""What the tests load in bulk on PostgreSQL is checked by the database as a real library's rows would be.

Found in CI's PostgreSQL run: the sitemap test's teardown (50,001 articles loaded with ``live_listings``) took
221 s in one statement, ``SET CONSTRAINTS ALL IMMEDIATE``, against 0.7 s alone. Django's test case runs the
deferred foreign-key checks there, one per inserted row, and PostgreSQL plans each kind of check once per
connection: planned on the small tables of earlier tests, it stays a whole-table scan, so the checks cost the
square of the rows loaded. The load's ``ANALYZE`` (what autovacuum would do in production) makes it plan again.
"""

from __future__ import annotations

import pytest
from django.db import connection

from articles.models import Article, Medication, Revision, RevisionState
from tests.api.bulk import live_listings

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

LOADED = 3_000


def rows_scanned(table: str) -> int:
    """Rows this transaction has read from ``table`` by whole-table scans."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq_tup_read FROM pg_stat_xact_user_tables WHERE relname = %s", [table])
        [[count]] = cursor.fetchall()
    return count


def check_deferred_constraints() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_a_bulk_load_is_checked_by_index_even_after_checks_on_small_tables():
    with connection.cursor() as cursor:  # small, and the planner knows it (as after ``vacuum_loaded``)
        cursor.execute("ANALYZE articles_medication, articles_article, articles_revision")
    medication = Medication.objects.create(slug="bulkamol", generic_name="Bulkamol", rxnorm_rxcui="990999")
    # As earlier tests on the same connection do: foreign keys checked again and again while the tables are small.
    for n in range(8):
        article = Article.objects.create(slug=f"small-{n}", medication=medication)
        Revision.objects.create(
            article=article, number=1, state=RevisionState.DRAFT, title="T", topic="T", summary="S."
        )
        check_deferred_constraints()

    live_listings(LOADED, medications=[medication])
    before = rows_scanned("articles_article")
    check_deferred_constraints()

    # An index lookup per check reads no row by scanning; a whole-table scan per check reads about LOADED ** 2.
    assert rows_scanned("articles_article") - before < LOADED
