"""Bad input is a clear 4xx, never a 500 (issue 10, item 5): each case here once answered 500, 403 or 200."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from articles.models import Revision
from tests.conftest import PartnerClient

UNSAFE_METHODS = ("put", "delete", "patch", "trace")


@pytest.fixture
def csrf_client(db: Any) -> Client:
    """A client that, like a browser, gets CSRF checks (Django's test client skips them by default)."""
    return Client(enforce_csrf_checks=True)


def public_pages(article: Revision, pathway: Revision) -> dict[str, str]:
    """Every public page, by URL name, at a real address."""
    slug, medication = article.article.slug, article.article.medication.slug
    return {
        "home": reverse("articles:home"),
        "search": reverse("articles:search") + "?q=amlodipine",
        "medicine": reverse("articles:medicine", args=[medication]),
        "detail": reverse("articles:detail", args=[slug]),
        "history": reverse("articles:history", args=[slug]),
        "triage list": reverse("triage:list"),
        "triage pathway": reverse("triage:pathway", args=[pathway.article.slug]),
        "sitemap": reverse("sitemap"),
        "sitemap section": reverse("sitemap-section", args=["articles"]),
        "robots": reverse("robots"),
    }


@pytest.mark.parametrize("method", UNSAFE_METHODS)
def test_public_pages_refuse_other_methods_with_405(
    csrf_client: Client, published_article: Revision, published_pathway: Revision, method: str
) -> None:
    """405 with an Allow header, before the CSRF check (which would say 403) and never the page (200)."""
    for name, url in public_pages(published_article, published_pathway).items():
        response = csrf_client.generic(method.upper(), url)
        assert response.status_code == 405, (name, method, response.status_code)
        allowed = {part.strip() for part in response["Allow"].split(",")}
        assert {"GET", "HEAD"} <= allowed, (name, response["Allow"])
        assert allowed <= {"GET", "HEAD", "POST"}, (name, response["Allow"])


def test_public_pages_still_answer_get_and_head(
    csrf_client: Client, published_article: Revision, published_pathway: Revision
) -> None:
    for name, url in public_pages(published_article, published_pathway).items():
        assert csrf_client.get(url).status_code == 200, name
        assert csrf_client.head(url).status_code == 200, name


def test_the_triage_form_still_needs_its_csrf_token(csrf_client: Client, published_pathway: Revision) -> None:
    response = csrf_client.post(reverse("triage:pathway", args=[published_pathway.article.slug]), {})
    assert response.status_code == 403


@pytest.mark.parametrize("query", ["amlo%00dipine", "%00", "amlodipine%00"])
def test_a_nul_byte_in_the_search_is_not_a_500(client: Client, published_article: Revision, query: str) -> None:
    """PostgreSQL refuses NUL in a string literal; ``articles.search`` passes only words to it, so NUL separates."""
    response = client.get(f"/search/?q={query}")
    assert response.status_code == 200


def test_options_on_the_api_docs_is_a_405(client: Client) -> None:
    """DRF's OPTIONS metadata cannot be rendered by the docs page's template renderer: it was a 500."""
    response = client.options("/api/v1/docs/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.options("/api/v1/schema/").status_code == 200


def test_the_api_root_lists_the_endpoints(api: PartnerClient) -> None:
    body = api.json("/api/v1/")
    urls = set(body.values())
    for name in ("articles", "medications", "symptoms", "changes", "lookup", "pathways", "schema", "docs"):
        assert name in body, body
    assert "https://medsafety.example/api/v1/articles/" in urls or "http://testserver/api/v1/articles/" in urls


def test_the_api_root_needs_a_key(client: Client) -> None:
    assert client.get("/api/v1/").status_code == 401


def test_the_api_root_costs_no_query(api: PartnerClient, django_assert_num_queries: Any) -> None:
    api.get("/api/v1/")  # the key, now in the cache
    with django_assert_num_queries(0):
        assert api.get("/api/v1/").status_code == 200
