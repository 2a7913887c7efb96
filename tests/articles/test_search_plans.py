"""On PostgreSQL, with a library big enough for the planner's choice to matter: the reader's pages of search
help read by index (the pattern of ``tests/api/test_plans.py``): nothing found (its symptom pages) and a
symptom page, whose articles every one of 20,000 shows.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.api.bulk import sql_library
from tests.api.test_plans import ARTICLES, problems
from tests.queries import selects_of

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]


def test_nothing_found_and_a_symptom_page_read_by_index(client, reviewer):
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    urls = [
        "/search/?q=zyzzyva",
        "/search/?q=sqll",
        "/symptoms/sql-symptom/",
        "/symptoms/sql-symptom/?after=sql-010000",
    ]
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [problem for sql in selects for problem in problems(sql)]
    assert 'href="/symptoms/sql-symptom/"' in client.get(urls[0]).content.decode()
    assert found == {url: [] for url in urls}
