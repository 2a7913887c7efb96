"""On PostgreSQL, with a library big enough for the planner's choice to matter: the reader's pages of search
help read by index (the pattern of ``tests/api/test_plans.py``): nothing found (its symptom pages) and a
symptom page, whose articles every one of 20,000 shows.
"""

from __future__ import annotations

import pytest
from django.db import connection

from articles.models import SymptomEntry
from tests.api.bulk import sql_library, sql_symptom_vocabulary
from tests.api.test_plans import ARTICLES, problems
from tests.articles.test_admin_at_scale import MAX_ROWS_READ, rows_read
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


def test_a_page_of_a_symptom_few_articles_show_reads_those_articles(client, reviewer):
    """The symptom page above is EXPLAINed for a symptom every one of 20,000 articles shows. For one that a handful
    show, in a vocabulary of a few hundred symptoms, its page walked all 20,000 articles by address asking each
    whether it shows it (40,000 rows read for 3 listed): whatever the planner expected, an OR over the kinds of rows
    that show a symptom could be asked only of each row in turn. It reads the rows that show it now."""
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    with connection.cursor() as cursor:
        sql_symptom_vocabulary(cursor)
    shown = SymptomEntry.objects.filter(symptom__slug="other-5", revision__state="published").count()
    assert 0 < shown < 50
    urls = ["/symptoms/other-5/", "/symptoms/sql-symptom/"]
    found = {url: [read for read in map(rows_read, selects_of(client, url)) if read > MAX_ROWS_READ] for url in urls}
    assert client.get(urls[0]).content.decode().count('href="/articles/sql-') == shown
    assert found == {url: [] for url in urls}
