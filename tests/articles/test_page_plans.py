"""On PostgreSQL, with a library big enough for the planner's choice to matter: an article page, once what is live
at its address is known, reads what the page shows, not every row of the library that shows one of its symptoms
(the pattern of ``tests/api/test_plans.py``)."""

from __future__ import annotations

import pytest
from django.db import connection

from articles.models import Symptom
from tests.api.bulk import sql_library
from tests.api.test_plans import ARTICLES
from tests.articles.test_admin_at_scale import MAX_ROWS_READ, rows_read
from tests.pages import rendered_again_queries

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]


def test_an_article_page_reads_the_content_it_links_to_not_every_article_sharing_its_symptom(
    client, reviewer, published_pathway
):
    """The page of one of 20,000 articles that all show a symptom, which a live triage pathway asks about too: the
    live content of other kinds about its symptoms (the pathway, under "Check your symptoms") was asked as "a
    revision among those with a row showing one of them", and PostgreSQL gathered every such row, the 20,000
    articles' symptom entries, to hash them for the one pathway's revision (20,018 rows read). Each live revision
    of a kind the page links to is asked now whether a row of its own shows one, by the rows' revision index."""
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    symptom = Symptom.objects.get(slug="sql-symptom")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE triage_question SET symptom_id = %s WHERE id = "
            "(SELECT min(id) FROM triage_question WHERE revision_id = %s AND symptom_id IS NOT NULL)",
            [symptom.pk, published_pathway.pk],
        )
        cursor.execute("ANALYZE")
    url = "/articles/sql-000007/"
    assert published_pathway.article.get_absolute_url() in client.get(url).content.decode()
    found = [
        (read, sql[:200]) for sql in rendered_again_queries(client, url) if (read := rows_read(sql)) > MAX_ROWS_READ
    ]
    assert found == []
