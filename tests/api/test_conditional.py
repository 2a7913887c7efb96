"""304 first: every API response's validators come from the live identity, before anything is serialised."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services
from articles.api import serializers
from articles.models import Revision

pytestmark = pytest.mark.django_db

SLUG = "amlodipine-peripheral-neuropathy"
LOOKUP = "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.88&mainSearchCriteria.v.c=17767"


def conditional_urls(pathway: str) -> list[str]:
    return [
        "/api/v1/medications/",
        "/api/v1/medications/amlodipine/",
        "/api/v1/symptoms/",
        "/api/v1/symptoms/loss-of-balance/",
        "/api/v1/articles/",
        "/api/v1/articles/?limit=1",
        "/api/v1/articles/?medication=amlodipine&updated_since=2000-01-01T00:00:00Z",
        f"/api/v1/articles/{SLUG}/",
        f"/api/v1/articles/{SLUG}/revisions/",
        f"/api/v1/articles/{SLUG}/revisions/1/",
        "/api/v1/changes/",
        LOOKUP,
        f"{LOOKUP}&limit=1",
        "/api/v1/pathways/",
        f"/api/v1/pathways/{pathway}/",
    ]


def queries(call: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [query["sql"] for query in captured]


def test_a_matching_conditional_request_costs_no_query(api, published_pathway, monkeypatch, settings):
    settings.PARTNER_API_RATE = "100000/minute"
    urls = conditional_urls(published_pathway.article.slug)
    etags = {url: api.get(url)["ETag"] for url in urls}
    monkeypatch.setattr(
        serializers.ReviewedContentSerializer, "to_representation", lambda *a: pytest.fail("serialised for a 304")
    )
    for url, etag in etags.items():
        response, sql = queries(lambda url=url, etag=etag: api.get(url, HTTP_IF_NONE_MATCH=etag))
        assert response.status_code == 304, url
        assert response["ETag"] == etag, url
        assert sql == [], (url, sql)  # the key, too, comes from the cache


def test_the_etag_is_the_views_not_a_hash_of_the_body(api, published_pathway, clock):
    clock.settle()
    for url in conditional_urls(published_pathway.article.slug):
        response = api.get(url)
        assert response.status_code == 200, url
        body_hash = hashlib.md5(response.content, usedforsecurity=False).hexdigest()  # ConditionalGetMiddleware's
        assert response["ETag"] != f'"{body_hash}"', url
        assert response["Cache-Control"] == "private, no-cache"
        assert response["Vary"] == "Accept, Authorization"
        assert response["Last-Modified"]


def test_representations_and_queries_have_their_own_etags(api, published_article):
    url = f"/api/v1/articles/{SLUG}/"
    json_etag = api.get(url)["ETag"]
    ld = api.get(url, HTTP_ACCEPT="application/ld+json")
    assert ld["Content-Type"] == "application/ld+json"
    assert ld["ETag"] != json_etag
    assert api.get(url, HTTP_IF_NONE_MATCH=json_etag, HTTP_ACCEPT="application/ld+json").status_code == 200
    assert api.get("/api/v1/articles/")["ETag"] != api.get("/api/v1/articles/?limit=1")["ETag"]
    assert api.get(f"/api/v1/articles/{SLUG}/revisions/1/")["ETag"] != json_etag


@pytest.mark.parametrize("accept", ["application/json; indent=4", "application/ld+json; indent=2"])
def test_an_indented_body_has_an_etag_of_its_own(api, published_pathway, accept):
    """A strong ETag names one sequence of bytes (RFC 9110, 8.8.3): the renderer writes another when the media type
    asks for an indent, so the compact body's ETag must not be answered 304 for it, nor the other way round."""
    everywhere = conditional_urls(published_pathway.article.slug)
    for url in everywhere if accept.startswith("application/json") else [f"/api/v1/articles/{SLUG}/"]:
        compact = api.get(url, HTTP_ACCEPT=accept.partition(";")[0])
        indented = api.get(url, HTTP_ACCEPT=accept)
        assert indented.status_code == 200, url
        assert indented.content != compact.content, url
        assert indented["ETag"] != compact["ETag"], url
        assert api.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH=compact["ETag"]).status_code == 200, url
        assert api.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH=indented["ETag"]).status_code == 304, url


def test_a_repeat_of_an_article_costs_the_key_lookup_and_cache_reads(api, published_article):
    url = f"/api/v1/articles/{SLUG}/"
    for accept in ("application/json", "application/ld+json"):
        first = api.get(url, HTTP_ACCEPT=accept)
        response, sql = queries(lambda accept=accept: api.get(url, HTTP_ACCEPT=accept))
        assert response.status_code == 200
        assert response.content == first.content
        assert len(sql) <= 1, sql


def test_gone_and_never_public_stay_410_and_404_whatever_the_validators(api, workflow, publisher, published_article):
    withdrawn = workflow.live(slug="withdrawn", medication="withdramol")
    services.revision_withdraw(revision=withdrawn, actor=publisher, reason="Under review.")
    for url in ("/api/v1/articles/withdrawn/", "/api/v1/articles/withdrawn/revisions/"):
        assert api.get(url, HTTP_IF_NONE_MATCH="*").status_code == 410
    assert api.get("/api/v1/articles/never/", HTTP_IF_NONE_MATCH="*").status_code == 404
    assert api.get(f"/api/v1/articles/{SLUG}/revisions/9/").status_code == 404


@pytest.mark.parametrize(
    "url", [f"/api/v1/articles/{SLUG}/revisions/9/", "/api/v1/medications/nothing/", "/api/v1/symptoms/nothing/"]
)
def test_what_does_not_exist_is_a_404_whatever_the_conditions(api, published_article, url):
    """A revision number never published, or an entry no live content uses, is a 404 however it is asked for: its
    article or the site being live says nothing of it. Preconditions are not evaluated for what would be a 404
    (RFC 9110, 13.2.1), so neither a 412 naming a made-up version nor a 304 for it."""
    assert api.get(url).status_code == 404
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    for conditions in (
        {"HTTP_IF_MATCH": '"other"'},
        {"HTTP_IF_UNMODIFIED_SINCE": "Thu, 01 Jan 2015 00:00:00 GMT"},
        {"HTTP_IF_NONE_MATCH": "*"},
        {"HTTP_IF_MODIFIED_SINCE": later},
    ):
        response = api.get(url, **conditions)
        assert response.status_code == 404, (conditions, response.status_code)
        assert "ETag" not in response


def test_a_malformed_request_is_400_never_304(api, published_article):
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    for url in (
        "/api/v1/articles/?updated_since=yesterday",
        "/api/v1/articles/?cursor=nonsense",
        "/api/v1/articles/?limit=0",
        "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.88",
        "/api/v1/changes/?after=-1",
    ):
        assert api.get(url, HTTP_IF_MODIFIED_SINCE=later).status_code == 400, url


def test_a_review_moves_the_article_its_lists_and_updated_at(api, reviewer, published_article, clock):
    url = f"/api/v1/articles/{SLUG}/"
    clock.settle()
    before = {path: api.get(path) for path in (url, "/api/v1/articles/")}
    clock.advance(datetime.timedelta(days=2))
    since = timezone.now()
    clock.advance(datetime.timedelta(minutes=1))
    services.revision_confirm_review(revision=published_article, actor=reviewer, next_review_due=None)
    clock.settle()
    for path, response in before.items():
        again = api.get(path, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 200, path
        assert again["Last-Modified"] != response["Last-Modified"]
    article = api.json(url)
    assert datetime.datetime.fromisoformat(article["updated_at"]) > since
    changed = api.json("/api/v1/articles/", {"updated_since": since.isoformat()})["results"]
    assert [item["slug"] for item in changed] == [SLUG]
    assert changed[0]["updated_at"] == article["updated_at"]
    revision = Revision.objects.select_related("article").get(pk=published_article.pk)
    assert article["updated_at"] == serializers.serializers.DateTimeField().to_representation(
        revision.payload_updated_at
    )


SETTLED = datetime.timedelta(seconds=61)
SAME_SECOND_URLS = [f"/api/v1/articles/{SLUG}/", "/api/v1/articles/", "/api/v1/changes/", LOOKUP]


@pytest.mark.parametrize("url", SAME_SECOND_URLS)
def test_if_modified_since_alone_is_never_answered_304_for_a_change_made_in_the_same_second(
    api, workflow, published_article, clock, url
):
    """Found from outside (stop 32, left then): a Last-Modified names whole seconds, so a partner that held a version
    and asked with If-Modified-Since alone was told 304 for a version published later in the same second, and kept
    the old one until the next change. A version's Last-Modified is sent only once no later version can share it."""
    clock.freeze()
    second = workflow.take_live(workflow.next_draft(published_article))
    clock.advance(datetime.timedelta(milliseconds=200))
    first = api.get(url)
    clock.advance(datetime.timedelta(milliseconds=200))
    workflow.take_live(workflow.next_draft(second))  # the same second as the copy the partner holds
    clock.advance(datetime.timedelta(milliseconds=200))
    if "Last-Modified" in first:
        assert api.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200
    clock.advance(SETTLED)  # a version no later one can share a second with: dated, and its date answers 304
    settled = api.get(url)
    assert settled["Last-Modified"]
    assert api.get(url, HTTP_IF_MODIFIED_SINCE=settled["Last-Modified"]).status_code == 304


def test_lookup_pages_like_the_list(api, workflow, published_article, reviewer):
    from articles.models import Medication
    from tests.api.bulk import live_articles

    live_articles(7, medication=Medication.objects.get(slug="amlodipine"), reviewer=reviewer)
    seen, url = [], f"{LOOKUP}&limit=3"
    while url:
        page = api.json(url)
        assert page["code"] == "17767"
        assert len(page["results"]) <= 3
        seen += [item["slug"] for item in page["results"]]
        url = page["next"]
    assert len(seen) == 8
    assert seen == sorted(set(seen))


def test_revision_default_ordering_joins_nothing():
    assert "JOIN" not in str(Revision.objects.all().query)


def test_the_lookup_is_documented_as_paginated(api):
    schema = api.client.get("/api/v1/schema/?format=json", HTTP_AUTHORIZATION=f"Api-Key {api.key}")
    if schema.status_code != 200:  # the schema may be served as YAML only
        schema = api.client.get("/api/v1/schema/", HTTP_AUTHORIZATION=f"Api-Key {api.key}")
    text = schema.content.decode()
    lookup = text[text.index("/api/v1/lookup/") :]
    assert "cursor" in lookup[:4000] and "limit" in lookup[:4000]


def test_a_failed_if_match_is_never_answered_304(api, published_pathway):
    """Only a matching If-None-Match or If-Modified-Since is a 304 (the pages' rule, ``contentsite.early``)."""
    for url in conditional_urls(published_pathway.article.slug):
        assert api.get(url, HTTP_IF_MATCH='"not-this-one"').status_code != 304, url


def test_a_failed_if_match_names_the_current_etag_and_an_error_names_none(api, published_pathway, client):
    """Found from outside: the 412's detail says "see its ETag", but its ETag was a hash of the error body, so a
    partner retrying with it got 412 forever; every error (401, 404, 406, 410, 429) carried such a hash."""
    for url in conditional_urls(published_pathway.article.slug):
        current = api.get(url)["ETag"]
        refused = api.get(url, HTTP_IF_MATCH='"not-this-one"')
        assert refused.status_code == 412, url
        assert refused["ETag"] == current, url
        assert api.get(url, HTTP_IF_MATCH=current).status_code == 200, url
    for response in (
        api.get("/api/v1/articles/no-such-article/"),
        api.get("/api/v1/articles/", HTTP_ACCEPT="text/csv"),
        client.get("/api/v1/articles/"),
        client.get("/articles/no-such-article/"),
    ):
        assert response.status_code >= 400
        assert "ETag" not in response.headers, response.status_code


def test_malformed_conditional_fields_are_read_as_rfc_9110_reads_them(api, published_pathway):
    """Found from outside: ``If-Match: garbage`` was answered 200 (RFC 9110, 13.1.1: neither "*" nor a list of entity
    tags is a false condition, 412), and an If-None-Match naming no entity tag beside a matching If-Modified-Since was
    a 304 (13.1.3: If-Modified-Since is ignored whenever If-None-Match is sent)."""
    for url in conditional_urls(published_pathway.article.slug):
        current = api.get(url)
        assert api.get(url, HTTP_IF_MATCH="garbage").status_code == 412, url
        if current.has_header("Last-Modified"):
            since = current["Last-Modified"]
            assert api.get(url, HTTP_IF_MODIFIED_SINCE=since).status_code == 304, url
            assert api.get(url, HTTP_IF_NONE_MATCH="garbage", HTTP_IF_MODIFIED_SINCE=since).status_code == 200, url
