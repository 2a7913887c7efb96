"""The admin a clinician works in costs the same at 30 articles as at 100,000: nothing grows with the library.

Found by loading the bench's library (``bench/fixtures.py``) at 100 and at 100,000 articles on
PostgreSQL and timing every admin page a clinician uses, with the queries each ran and their
plans. Each test here is one page that grew: its query count, the rows it lists, or (on
PostgreSQL, in the manner of ``tests/api/test_plans.py``) its plan.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Medication, Symptom, SymptomEntry
from tests.api.bulk import live_articles
from tests.articles.test_admin_side_doors import change_url

pytestmark = pytest.mark.django_db

ARTICLE_LINK = re.compile(r'href="/admin/articles/article/\d+/change/"')


def listed(client, entry) -> tuple[int, int, str]:
    """The queries a vocabulary entry's change page runs, the articles it links to, and its text."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(change_url(entry))
    assert response.status_code == 200
    html = response.content.decode()
    return len(queries), len(ARTICLE_LINK.findall(html)), html


def test_a_medications_page_lists_a_bounded_number_of_the_articles_that_show_it(client, reviewer):
    # At 100,000 articles over 20 medicines each medicine's page listed its 5,000 articles: 1.8 s.
    medication = Medication.objects.create(slug="scalamol", generic_name="Scalamol")
    live_articles(30, medication=medication, reviewer=reviewer, prefix="few")
    client.force_login(reviewer)
    listed(client, medication)  # the session's first page reads what later pages find cached
    queries, links, _ = listed(client, medication)
    live_articles(60, medication=medication, reviewer=reviewer, prefix="many")
    more_queries, more_links, html = listed(client, medication)
    assert (more_queries, more_links) == (queries, links)
    assert links <= 30
    assert f"and {90 - links} more (90 in all)" in html


def test_a_symptoms_page_lists_a_bounded_number_of_the_articles_that_show_it(client, reviewer):
    # The bench's symptom, shown by every one of 100,000 articles: its page took 20 s.
    medication = Medication.objects.create(slug="scalamol", generic_name="Scalamol")
    live_articles(30, medication=medication, reviewer=reviewer, prefix="few")
    symptom = Symptom.objects.get(slug="few-symptom")
    client.force_login(reviewer)
    listed(client, symptom)
    queries, links, _ = listed(client, symptom)
    live_articles(60, medication=medication, reviewer=reviewer, prefix="many")
    SymptomEntry.objects.filter(symptom__slug="many-symptom").update(symptom=symptom)
    more_queries, more_links, html = listed(client, symptom)
    assert (more_queries, more_links) == (queries, links)
    assert links <= 30
    assert f"and {90 - links} more (90 in all)" in html
