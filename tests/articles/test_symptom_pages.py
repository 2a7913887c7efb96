"""The symptom pages (``/symptoms/<slug>/``): the live articles that mention a symptom, fresh on the next request."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import services
from articles.models import Medication, Symptom
from articles.views import SYMPTOM_PAGE_SIZE
from contentsite import proxy
from tests.api.bulk import live_articles
from tests.articles.test_search import DEMO_URL
from tests.factories import article_document
from tests.pages import browsers_revalidate

pytestmark = pytest.mark.django_db

SLUG = "numbness-or-pins-and-needles"
URL = f"/symptoms/{SLUG}/"


def listed(html: str) -> list[str]:
    return re.findall(r'<a href="(/articles/[^"]+/)">', html)


def test_a_symptom_page_lists_the_live_articles_that_mention_it(client, published_article):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Numbness or pins and needles (paresthesia)</h1>" in html
    assert "Numbness or a &#x27;pins and needles&#x27; sensation (paresthesia)." in html
    assert listed(html) == [DEMO_URL]
    assert 'href="/triage/"' in html
    symptom = Symptom.objects.get(slug=SLUG)
    assert response[proxy.SURROGATE_HEADER].split() == [proxy.INDEX_KEY, proxy.symptom_key(symptom.pk)]
    assert browsers_revalidate(response["Cache-Control"]) and response["ETag"]


def test_the_article_page_links_each_symptom_entry_to_its_page(client, published_article):
    html = client.get(DEMO_URL).content.decode()
    for entry in published_article.symptom_entries.select_related("symptom"):
        link = f'<a class="symptom-link" href="/symptoms/{entry.symptom.slug}/">'
        assert link in html, entry.symptom.slug
        assert client.get(f"/symptoms/{entry.symptom.slug}/").status_code == 200


def test_unknown_unused_and_malformed_are_404(client, published_article, workflow):
    Symptom.objects.create(slug="unused", name="Unused", description="Nothing shows it.")
    workflow.draft(article_document(slug="draft-only", medication="draftamol"))  # a draft shows its symptoms
    for url in ("/symptoms/nothing/", "/symptoms/unused/", "/symptoms/draftamol-symptom-1/", f"{URL}?after=%3Cx%3E"):
        assert client.get(url).status_code == 404, url
        assert client.get(url).status_code == 404, url  # and again, from the cache


def test_publish_and_withdraw_change_it_on_the_next_request(client, workflow, publisher):
    first = workflow.live(slug="first", medication="firstamol")
    url = "/symptoms/firstamol-symptom-1/"
    etag = client.get(url)["ETag"]
    document = article_document(slug="second", medication="secondamol")
    document["symptoms"][0] = {**document["symptoms"][0], "slug": "firstamol-symptom-1", "name": "firstamol symptom 1"}
    document["revision"]["symptom_entries"][0]["symptom"] = "firstamol-symptom-1"
    second = workflow.live(document)
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert listed(response.content.decode()) == ["/articles/first/", "/articles/second/"]
    services.revision_withdraw(revision=first, actor=publisher, reason="Under review.")
    assert listed(client.get(url).content.decode()) == ["/articles/second/"]
    services.revision_withdraw(revision=second, actor=publisher, reason="Under review.")
    assert client.get(url).status_code == 404


def test_a_renamed_symptom_shows_at_once(client, published_article, reviewer):
    client.get(URL)
    symptom = Symptom.objects.get(slug=SLUG)
    services.symptom_update(symptom=symptom, actor=reviewer, changes={"name": "Formication"}, reason="Term.")
    assert "<h1>Formication</h1>" in client.get(URL).content.decode()


def test_pages_walk_every_article_once(client, published_article, reviewer):
    live_articles(SYMPTOM_PAGE_SIZE + 5, medication=Medication.objects.get(slug="amlodipine"), reviewer=reviewer)
    first = client.get("/symptoms/bulk-symptom/").content.decode()
    following = re.search(r'<a href="\?after=([^"]+)" rel="next">', first).group(1)
    second = client.get(f"/symptoms/bulk-symptom/?after={following}").content.decode()
    seen = listed(first) + listed(second)
    assert len(seen) == len(set(seen)) == SYMPTOM_PAGE_SIZE + 5 and seen == sorted(seen)
    assert 'rel="next"' not in second and 'href="/symptoms/bulk-symptom/">First page' in second


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_symptom_page_costs_the_same_queries_at_any_size(client, published_article, reviewer):
    medication = Medication.objects.get(slug="amlodipine")
    live_articles(60, medication=medication, reviewer=reviewer, prefix="few")
    urls = (URL, "/symptoms/few-symptom/", "/symptoms/few-symptom/?after=few-0030")
    few = [count_queries(client, url) for url in urls]
    live_articles(600, medication=medication, reviewer=reviewer, prefix="many")
    assert [count_queries(client, url) for url in urls] == few
    assert [count_queries(client, url) for url in urls] == [0] * len(urls)  # cached
    assert max(few) <= 6


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's plan; PostgreSQL's: tests/articles/test_search_plans.py"
)
@pytest.mark.parametrize("which", ["with_live_articles", "in_live_content"])
def test_symptoms_with_live_content_are_found_from_each_symptoms_own_rows(published_article, which):
    """Nothing found offers the symptom pages (``with_live_articles``); partners see ``in_live_content``.
    Each symptom is checked from its own rows by their symptom index, never against a list of every live
    revision built for the query (SQLite's "LIST SUBQUERY": 0.3-0.8 s a query at 100,000 articles)."""
    symptoms = getattr(Symptom.objects, which)()
    assert SLUG in symptoms.values_list("slug", flat=True)
    plan = symptoms.order_by("name").values("slug")[:8].explain()
    assert "LIST SUBQUERY" not in plan, plan
    assert "symptom_id=?" in plan, plan
