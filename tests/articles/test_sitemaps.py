"""The sitemap: an index of paged sections that covers every live address, at any size of library."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.memo import forget_all
from articles.models import Article, Medication
from articles.sitemaps import SITEMAP_PAGE_SIZE
from contentsite import proxy
from tests.api.bulk import live_listings
from tests.pages import browsers_revalidate, sitemap_locations, sitemap_pages

pytestmark = pytest.mark.django_db

BASE = "https://medsafety.example"


def medications(count: int) -> list[Medication]:
    return [
        Medication.objects.create(slug=f"listamol-{n}", generic_name=f"Listamol {n}", brand_names=[])
        for n in range(count)
    ]


def section_pages(client, section: str) -> list[str]:
    """The paths of one section's pages, as the index lists them (ids, and so pages, depend on the database)."""
    return [path for path in sitemap_pages(client) if path.startswith(f"/sitemap-{section}.xml")]


def queries(client, url: str, **headers) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    return response.status_code, len(captured)


def test_every_article_is_in_the_sitemap_exactly_once_beyond_50000(client, published_article, published_pathway):
    live_listings(50_001, medications=medications(3))
    pages = sitemap_pages(client)
    locations = sitemap_locations(client)
    articles = [location for location in locations if location.startswith(f"{BASE}/articles/")]
    assert len(articles) == len(set(articles)) == 50_002
    assert set(articles) == {
        f"{BASE}/articles/{slug}/" for slug in Article.objects.filter(kind="article").values_list("slug", flat=True)
    }
    assert f"{BASE}/triage/{published_pathway.article.slug}/" in locations
    assert f"{BASE}/" in locations and f"{BASE}/medicines/listamol-0/" in locations
    assert len(pages) >= 6
    for path in pages:
        assert client.get(path).content.decode().count("<url>") <= SITEMAP_PAGE_SIZE


def test_drafts_withdrawn_and_unknown_medicines_stay_out(client, workflow, publisher):
    from articles import services

    live = workflow.live(slug="kept", medication="keptamol")
    gone = workflow.live(slug="gone", medication="goneamol")
    workflow.draft(slug="draft-only", medication="draftamol")
    services.revision_withdraw(revision=gone, actor=publisher, reason="Wrong.")
    locations = sitemap_locations(client)
    assert f"{BASE}{live.article.get_absolute_url()}" in locations
    assert f"{BASE}/medicines/keptamol/" in locations
    for absent in ("/articles/gone/", "/articles/draft-only/", "/medicines/goneamol/", "/medicines/draftamol/"):
        assert f"{BASE}{absent}" not in locations


def test_lastmod_is_the_last_public_change(client, workflow, clock):
    import datetime

    first = workflow.live(slug="dated")
    clock.advance(datetime.timedelta(days=3))
    second = workflow.take_live(workflow.next_draft(first))
    page = "".join(client.get(path).content.decode() for path in section_pages(client, "articles"))
    entry = re.search(r"<url><loc>[^<]*/articles/dated/</loc><lastmod>(.*?)</lastmod></url>", page)
    updated_at = Article.objects.get(pk=second.article_id).public_updated_at
    assert entry and entry.group(1) == updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_pages_beyond_the_end_and_unknown_sections_are_404(client, published_article):
    pages = section_pages(client, "articles")
    assert all(client.get(path).status_code == 200 for path in pages)
    beyond = f"/sitemap-articles.xml?p={len(pages) + 1}"
    for url in (
        beyond,
        "/sitemap-articles.xml?p=0",
        "/sitemap-articles.xml?p=x",
        "/sitemap-articles.xml?p=99999999999999999999",
        "/sitemap-nothing.xml",
        "/sitemap-pages.xml?p=2",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(beyond).status_code == 404  # and again, from the cache


def test_a_conditional_request_is_answered_without_a_query(client, workflow, clock):
    workflow.live(slug="first")
    clock.settle()
    last_page = section_pages(client, "articles")[-1]
    for url in ("/sitemap.xml", last_page):
        response = client.get(url)
        assert response["Content-Type"] == "application/xml; charset=utf-8"
        assert browsers_revalidate(response["Cache-Control"]) and response["Last-Modified"]
        assert response[proxy.SURROGATE_HEADER] == proxy.INDEX_KEY
        assert queries(client, url, HTTP_IF_NONE_MATCH=response["ETag"]) == (304, 0)
        assert queries(client, url) == (200, 0)  # from the cache
    workflow.live(slug="second")
    response = client.get(last_page, HTTP_IF_NONE_MATCH=response["ETag"])
    assert response.status_code == 200 and "/articles/second/" in response.content.decode()


def test_sitemaps_cost_the_same_queries_at_100_and_2500_articles(client, published_pathway):
    meds = medications(5)
    live_listings(100, medications=meds, prefix="few")
    urls = ("/sitemap.xml", *(section_pages(client, section)[-1] for section in ("articles", "medicines", "triage")))
    cache.clear()  # measure misses: nothing in the shared cache, nor kept by this process
    forget_all()
    few = [queries(client, url) for url in urls]
    live_listings(2_400, medications=meds, prefix="many")
    assert [queries(client, url) for url in urls] == few
    assert [queries(client, url) for url in urls] == [(200, 0)] * len(urls)  # cached


def test_the_article_section_is_served_in_ranges_of_ids_not_offsets(client, published_article):
    meds = medications(1)
    live_listings(3, medications=meds)
    last_page = section_pages(client, "articles")[-1]
    with CaptureQueriesContext(connection) as captured:
        assert "/articles/listed-000002/" in client.get(last_page).content.decode()
    sql = " ".join(query["sql"] for query in captured.captured_queries).upper()
    assert "OFFSET" not in sql and "COUNT(" not in sql
