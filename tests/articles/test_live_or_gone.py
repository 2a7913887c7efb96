"""One read answers "live, else 410 Gone, else 404" for the pages, the API and triage alike."""

from __future__ import annotations

import pytest
from django.http import Http404

from articles import services
from articles.models import ArticleKind, Revision, Withdrawn
from tests.api.problems import problem
from triage.models import PATHWAY

pytestmark = pytest.mark.django_db

PATHWAY_SLUG = "numbness-tingling-weakness-amlodipine"


@pytest.fixture
def addresses(workflow, publisher, published_pathway):
    """A live article, a withdrawn one, a draft never published, and the live pathway."""
    workflow.live(slug="live-one", medication="livamol")
    gone = workflow.live(slug="gone", medication="gonamol")
    services.revision_withdraw(revision=gone, actor=publisher, reason="Under review.")
    workflow.draft(slug="draft-only", medication="draftamol")
    return published_pathway


def test_get_live_answers_live_else_withdrawn_else_not_found(addresses, publisher):
    assert Revision.objects.get_live("live-one", kind=ArticleKind.ARTICLE).article.slug == "live-one"
    assert Revision.objects.get_live(PATHWAY_SLUG, kind=PATHWAY).pk == addresses.pk
    with pytest.raises(Withdrawn):
        Revision.objects.get_live("gone", kind=ArticleKind.ARTICLE)
    for slug in ("draft-only", "never-was", PATHWAY_SLUG):
        with pytest.raises(Http404):
            Revision.objects.get_live(slug, kind=ArticleKind.ARTICLE)
    for slug in ("live-one", "gone"):  # content of another kind at that address is not a pathway
        with pytest.raises(Http404):
            Revision.objects.get_live(slug, kind=PATHWAY)
    services.revision_withdraw(revision=addresses, actor=publisher, reason="Under review.")
    with pytest.raises(Withdrawn):
        Revision.objects.get_live(PATHWAY_SLUG, kind=PATHWAY)


def test_get_live_keeps_the_callers_prefetches_and_annotations(addresses):
    revision = (
        Revision.objects.with_review()
        .select_related("article__medication")
        .get_live("live-one", kind=ArticleKind.ARTICLE)
    )
    assert "reviews" in revision._prefetched_objects_cache
    assert revision.article.medication.slug == "livamol"


ARTICLE_PAGES = ["/articles/{}/", "/articles/{}/history/"]
ARTICLE_API = ["/api/v1/articles/{}/", "/api/v1/articles/{}/revisions/", "/api/v1/articles/{}/revisions/1/"]


@pytest.mark.parametrize("url", ARTICLE_PAGES)
def test_article_pages(client, addresses, url):
    assert client.get(url.format("live-one")).status_code == 200
    assert client.get(url.format("gone")).status_code == 410
    for slug in ("draft-only", "never-was", PATHWAY_SLUG):
        assert client.get(url.format(slug)).status_code == 404, slug


@pytest.mark.parametrize("url", ARTICLE_API)
def test_article_api(api, addresses, url):
    assert api.get(url.format("live-one")).status_code == 200
    response = api.get(url.format("gone"))
    assert response.status_code == 410
    assert problem(response)["detail"] == "This was withdrawn and is no longer published."
    assert problem(response)["code"] == "gone"
    for slug in ("draft-only", "never-was", PATHWAY_SLUG):
        response = api.get(url.format(slug))
        assert response.status_code == 404, slug
        assert response["Content-Type"] == "application/problem+json", slug
        assert problem(response)["code"] == "not_found", slug


def test_triage_page_and_api(client, api, addresses, publisher):
    page, detail, evaluate = "/triage/{}/", "/api/v1/pathways/{}/", "/api/v1/pathways/{}/evaluate/"
    for slug in ("live-one", "gone", "draft-only", "never-was"):
        assert client.get(page.format(slug)).status_code == 404, slug
        assert client.post(page.format(slug), {}).status_code == 404, slug
        assert api.get(detail.format(slug)).status_code == 404, slug
        assert (
            api.client.post(
                evaluate.format(slug), {}, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {api.key}"
            ).status_code
            == 404
        ), slug
    assert client.get(page.format(PATHWAY_SLUG)).status_code == 200
    services.revision_withdraw(revision=addresses, actor=publisher, reason="Under review.")
    assert client.get(page.format(PATHWAY_SLUG)).status_code == 410
    assert api.get(detail.format(PATHWAY_SLUG)).status_code == 410
    response = api.client.post(
        evaluate.format(PATHWAY_SLUG),
        {"answers": {}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {api.key}",
    )
    assert response.status_code == 410
