"""The editors' feedback queue costs the same with 20 answers as with 200,000 (see ``tests/articles``)."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from tests.api.bulk import sql_library
from tests.api.test_plans import ARTICLES
from tests.articles.test_admin_at_scale import MAX_ROWS_READ, rows_read
from tests.queries import selects_of

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/feedback/feedback/"


def _feedback_on_every_live_article(reviewer) -> None:
    """A library of live articles and two answers from readers on each, each helpful (what most readers say)."""
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO feedback_feedback (helpful, reason, text, received_on, handled, revision_id)"
            " SELECT n % 3 <> 0, CASE WHEN n % 3 = 0 THEN 'unclear' ELSE '' END,"
            " CASE WHEN n % 3 = 0 THEN 'Reader comment ' || n ELSE '' END,"
            " current_date - ((r.id * 2 + n) % 365)::int, (r.id + n) % 10 <> 0, r.id"
            " FROM articles_revision r CROSS JOIN generate_series(1, 2) AS n WHERE r.state = 'published'"
        )
        cursor.execute("ANALYZE feedback_feedback")


@pytest.mark.postgresql
def test_every_column_the_feedback_list_sorts_by_is_read_by_index(client, reviewer):
    """Found at 100,000 articles and 200,000 rows of reader feedback (helper h2): clicking the list's Kind, Article,
    Revision, Helpful, Reason or Text heading joined every row of feedback to its revision and article and sorted them
    all (0.2-0.6 s a page, growing with every answer readers send)."""
    _feedback_on_every_live_article(reviewer)
    client.force_login(reviewer)
    html = client.get(f"{CHANGELIST}?status=all").content.decode()
    links = re.findall(r"[?;]o=([-0-9.]+)", html)
    columns = sorted({abs(int(column)) for link in links for column in link.split(".")})
    # All of it: the queue of unhandled answers alone counts up to 2,000 of them through its index whatever the order.
    urls = [f"{CHANGELIST}?status=all", *(f"{CHANGELIST}?status=all&o={s}{c}" for c in columns for s in ("", "-"))]
    urls += [f"{CHANGELIST}?status=all&o=3.4.2"]  # typed or bookmarked
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert found == {url: [] for url in urls}


@pytest.mark.postgresql
def test_the_feedback_list_filtered_by_answer_or_reason_reads_a_bounded_number_of_rows(client, reviewer):
    """Found at 100,000 articles and 200,000 rows of reader feedback (helper h3): the queue filtered to the answers
    that say a page did not help ("Helpful: No"), or to one reason ("It is out of date", "It is unclear"...), read
    every answer readers ever sent, twice (its count, then its page, walking the list's order for the few that
    match): 0.05 s a query at 200,000, growing with every answer. ``feedback_by_answer`` and ``feedback_by_reason``
    (each, then the list's order) find them by index, in the queue and in all feedback."""
    _feedback_on_every_live_article(reviewer)
    client.force_login(reviewer)
    urls = [
        f"{CHANGELIST}?{status}{narrowed}"
        for status in ("", "status=all&", "status=handled&")
        for narrowed in ("helpful__exact=0", "reason__exact=out_of_date", "reason__exact=unclear&helpful__exact=0")
    ]
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert found == {url: [] for url in urls}
