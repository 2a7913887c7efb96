"""On PostgreSQL, at 20,000 articles that all show one symptom: working out what is live at an article's address
(``articles.live``, on every cache miss) reads what that article needs, not what the library holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import live
from articles.models import ArticleKind
from tests.api.bulk import sql_library
from tests.api.test_plans import ARTICLES
from tests.articles.test_admin_at_scale import MAX_ROWS_READ, rows_read

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]


def test_an_articles_identity_reads_a_bounded_number_of_rows(reviewer, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    for slug in ("sql-000001", "sql-000200"):  # the second has a scheduled next revision
        with CaptureQueriesContext(connection) as captured:
            identity = live.live_identity(slug, kind=ArticleKind.ARTICLE)
        assert identity.is_live and identity.symptom_ids
        read = {query["sql"][:120]: rows_read(query["sql"]) for query in captured}
        assert {sql: rows for sql, rows in read.items() if rows > MAX_ROWS_READ} == {}
