"""The read path from the live pointer (``articles.live``): no query on a hit, 304 first, and never stale.

Run on both cache backends by CI (local memory on SQLite; Redis on PostgreSQL).
"""

from __future__ import annotations

import datetime
import pickle
import warnings
from typing import Any

import pytest
from django.core.cache import cache
from django.core.cache.backends.base import CacheKeyWarning
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import live, services
from articles.models import ArticleKind, Medication, Revision

URL = "/articles/pointer/"


def retitle(workflow: Any, live_revision: Revision, title: str) -> Revision:
    return workflow.edited_draft(live_revision, title=title)


def queries(call: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [query["sql"] for query in captured]


def test_a_cached_article_page_costs_no_query_through_every_middleware(client, workflow):
    workflow.live(slug="pointer")
    first = client.get(URL)
    assert first.status_code == 200
    response, sql = queries(lambda: client.get(URL))
    assert response.status_code == 200
    assert response.content == first.content
    assert sql == []
    assert "Set-Cookie" not in response.headers and not response.cookies


def test_a_matching_conditional_request_is_a_304_without_a_query_or_rendering(client, workflow, monkeypatch):
    workflow.live(slug="pointer")
    etag = client.get(URL)["ETag"]
    from articles import views

    monkeypatch.setattr(views, "render_to_string", lambda *a, **k: pytest.fail("rendered for a 304"))
    response, sql = queries(lambda: client.get(URL, HTTP_IF_NONE_MATCH=etag))
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert sql == []


def test_a_304_from_a_cold_cache_is_decided_before_the_content_is_read(client, workflow, monkeypatch):
    workflow.live(slug="pointer")
    etag = client.get(URL)["ETag"]
    cache.clear()
    from articles import views

    monkeypatch.setattr(views, "render_to_string", lambda *a, **k: pytest.fail("rendered for a 304"))
    response, sql = queries(lambda: client.get(URL, HTTP_IF_NONE_MATCH=etag))
    assert response.status_code == 304
    # What is live (one query, which also asks whether any content its page may link to is scheduled: none is), what
    # its page shows besides its revision (one: the symptoms) and the check that nothing committed meanwhile (one more).
    assert len(sql) == 3 and not any("articles_section" in query for query in sql)


def test_history_page_is_also_answered_from_the_pointer(client, workflow):
    workflow.live(slug="pointer")
    etag = client.get(URL + "history/")["ETag"]
    response, sql = queries(lambda: client.get(URL + "history/", HTTP_IF_NONE_MATCH=etag))
    assert response.status_code == 304 and sql == []
    response, sql = queries(lambda: client.get(URL + "history/"))
    assert response.status_code == 200 and sql == []


def test_publish_review_vocabulary_and_withdrawal_show_on_the_very_next_request(
    client, workflow, reviewer, publisher, clock
):
    first = workflow.live(slug="pointer", medication="pointamol")
    page = client.get(URL)
    etag = page["ETag"]

    second = workflow.take_live(retitle(workflow, first, "A newer title"))
    response = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and "A newer title" in response.content.decode()
    etag = response["ETag"]

    clock.advance(datetime.timedelta(days=1))
    services.revision_confirm_review(revision=second, actor=reviewer, comment="Still right.")
    response = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200, "a review of the live revision changes the page"
    etag = response["ETag"]

    medication = Medication.objects.get(slug="pointamol")
    services.medication_update(
        medication=medication, actor=reviewer, changes={"generic_name": "Pointamol sodium"}, reason="Salt named."
    )
    response = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and "Pointamol sodium" in response.content.decode()

    services.revision_withdraw(revision=second, actor=publisher, reason="Under review.")
    assert client.get(URL).status_code == 410
    assert client.get(URL + "history/").status_code == 410


def test_a_scheduled_publication_shows_at_its_time_from_a_cached_pointer(client, workflow, clock):
    first = workflow.live(slug="pointer")
    soon = datetime.timedelta(hours=1)
    workflow.take_live(retitle(workflow, first, "Scheduled words"), publish_at=clock_now() + soon)
    assert "Scheduled words" not in client.get(URL).content.decode()
    assert client.get(URL).status_code == 200  # cached, pointer included
    clock.advance(soon + datetime.timedelta(seconds=1))
    assert "Scheduled words" in client.get(URL).content.decode()


def clock_now() -> datetime.datetime:
    from django.utils import timezone

    return timezone.now()


def test_a_change_committed_while_a_reader_works_out_the_pointer_is_not_lost(client, workflow, monkeypatch):
    """The reader reads the old state, the change commits and drops the pointer, the reader puts the old one back:
    the reader's check afterwards drops it, so the next request sees the change."""
    first = workflow.live(slug="pointer")
    draft = retitle(workflow, first, "Committed meanwhile")
    work_out = live._work_out

    def slow_reader(slug: str, kind: str) -> live.Live:
        old = work_out(slug, kind)
        workflow.take_live(draft)  # commits (and drops the pointer) between the read and the put
        return old

    monkeypatch.setattr(live, "_work_out", slow_reader)
    old = live.live_identity("pointer", kind=ArticleKind.ARTICLE)
    assert old.revision_id == first.pk
    monkeypatch.setattr(live, "_work_out", work_out)
    assert live.live_identity("pointer", kind=ArticleKind.ARTICLE).revision_id == draft.pk
    assert "Committed meanwhile" in client.get(URL).content.decode()


def test_unknown_and_draft_only_addresses_are_404_and_gone_ones_410(client, workflow, publisher):
    assert client.get("/articles/never-heard-of-it/").status_code == 404
    draft = workflow.draft(slug="only-a-draft")
    assert client.get("/articles/only-a-draft/").status_code == 404
    revision = workflow.take_live(draft)  # the same address, now published: seen at once
    assert client.get("/articles/only-a-draft/").status_code == 200
    services.revision_withdraw(revision=revision, actor=publisher, reason="Wrong.")
    assert client.get("/articles/only-a-draft/").status_code == 410


def test_a_failing_cache_is_a_miss_not_an_error(client, workflow, settings):
    workflow.live(slug="pointer")
    settings.CACHES = {
        "default": {
            "BACKEND": "contentsite.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = client.get(URL)
    assert response.status_code == 200 and b"Title of pointer" in response.content
    assert client.get(URL, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_the_site_clock_moves_with_every_public_change_and_only_then(workflow, author, reviewer, publisher):
    from tests.conftest import approve

    before = live.site_identity()
    revision = workflow.draft(slug="pointer")
    assert live.site_identity() == before, "a draft changes nothing public"
    revision = services.revision_submit(revision=revision, actor=author, change_summary="First version.")
    revision = approve(revision, reviewer)
    assert live.site_identity() == before, "nor does an approval"
    services.revision_publish(revision=revision, actor=publisher)
    after = live.site_identity()
    assert after.version > before.version and after.etag() != before.etag()


def test_public_change_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError):
        live.public_change([])


def test_a_hot_page_costs_one_cache_read(client, workflow, monkeypatch):
    """What is live comes from the shared cache; the page under its ETag from the process's memo."""
    workflow.live(slug="pointer")
    client.get(URL)
    reads = []
    real_get = live.cache_get
    monkeypatch.setattr(live, "cache_get", lambda key: reads.append(key) or real_get(key))
    from articles import views

    monkeypatch.setattr(views, "cache_get", lambda key: reads.append(key) or real_get(key))
    assert client.get(URL).status_code == 200
    assert client.get(URL, HTTP_IF_NONE_MATCH=client.get(URL)["ETag"]).status_code == 304
    assert len(reads) == 3 and all(key.startswith("live:") for key in reads)


def kept(slug: str, kind: str) -> bool:
    """Whether the cache holds ``slug``'s live identity (the local-memory cache warns of keys memcached refuses)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheKeyWarning)
        return cache.get(live.identity_cache_key(slug, kind=kind)) is not None


@pytest.mark.parametrize("kind", [ArticleKind.ARTICLE, "triage_pathway"])
def test_an_address_no_article_can_have_costs_no_query_and_leaves_nothing_in_the_cache(kind, db):
    """A slug longer than any article's (``Article.slug``'s maximum) was looked up, and its "nothing here" kept in
    the shared cache under a key as long as the address: a stranger could fill the cache with such keys, each
    request a new one."""
    from articles.models import Article

    slug = "a" * (Article._meta.get_field("slug").max_length + 1)
    found, sql = queries(lambda: live.live_identity(slug, kind=kind))
    assert not found.is_live and not found.gone and sql == []
    assert not kept(slug, kind)


def test_the_longest_address_an_article_can_have_is_looked_up_and_kept(db):
    from articles.models import Article

    slug = "a" * Article._meta.get_field("slug").max_length
    found, sql = queries(lambda: live.live_identity(slug, kind=ArticleKind.ARTICLE))
    assert not found.is_live and sql != []
    assert kept(slug, ArticleKind.ARTICLE)


@pytest.mark.parametrize("path", ["/articles/{}/", "/articles/{}/history/", "/triage/{}/"])
def test_a_page_at_an_address_no_article_can_have_is_a_404_without_a_query(client, db, path):
    slug = "a" * 3000
    response, sql = queries(lambda: client.get(path.format(slug)))
    assert response.status_code == 404 and sql == []


@pytest.mark.parametrize("path", ["/api/v1/articles/{}/", "/api/v1/pathways/{}/", "/api/v1/articles/{}/revisions/"])
def test_the_api_at_an_address_no_article_can_have_is_a_404_that_leaves_nothing_in_the_cache(api, path):
    slug = "a" * 3000
    assert api.get(path.format(slug)).status_code == 404
    for kind in (ArticleKind.ARTICLE, "triage_pathway"):
        assert not kept(slug, kind)


def test_the_pointer_keeps_the_kind_as_a_plain_string(workflow):
    """A member of ``ArticleKind`` in the pointer was unpickled by looking up and calling its class on every read:
    half of the CPU of reading the pointer back (profiled, issue 9)."""
    workflow.live(slug="plain")
    found = live.live_identity("plain", kind=ArticleKind.ARTICLE)
    assert type(found.kind) is str and found.kind == "article"
    assert b"ArticleKind" not in pickle.dumps(found, pickle.HIGHEST_PROTOCOL)
    assert found.etag("article") == live.live_identity("plain", kind="article").etag("article")


def _worked_out(sql: list[str]) -> list[str]:
    """The statements of ``live._work_out``: the article's row with its public revisions (one per work-out)."""
    return [statement for statement in sql if '"public__state"' in statement]


@pytest.mark.parametrize("path", [URL, "/articles/pointer/history/"])
def test_a_page_with_no_shared_cache_works_out_what_is_live_once(client, workflow, settings, path):
    """Redis down (or evicted): the early answer's validators and the view ask what is live at one address in one
    request; it is worked out once, not once for each (twice the identity's queries on every such miss)."""
    workflow.live(slug="pointer")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    response, sql = queries(lambda: client.get(path))
    assert response.status_code == 200
    assert len(_worked_out(sql)) == 1
    again, sql = queries(lambda: client.get(path))
    assert again.status_code == 200 and len(_worked_out(sql)) == 1  # each request its own: never kept past one


def test_a_change_within_a_request_is_not_hidden_by_the_identity_read_earlier(workflow, publisher):
    """The request's copy of an identity is its own: a public change later in the same request (an admin step that
    reads the page it changed) works it out afresh."""
    from contentsite.cache import request_scope

    revision = workflow.live(slug="pointer")
    with request_scope():
        before = live.live_identity("pointer", kind=ArticleKind.ARTICLE)
        services.revision_withdraw(revision=revision, actor=publisher, reason="Wrong.")
        after = live.live_identity("pointer", kind=ArticleKind.ARTICLE)
    assert before.is_live and not after.is_live and after.gone


@pytest.mark.parametrize("path", ["/", "/sitemap.xml"])
def test_a_list_with_no_shared_cache_reads_the_public_clock_once(client, workflow, settings, path):
    """As for an article's page: the early answer's validators and the view read the site's identity once."""
    workflow.live(slug="pointer")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    response, sql = queries(lambda: client.get(path))
    assert response.status_code == 200
    clock = [statement for statement in sql if "changefeedlock" in statement and "public_updated_at" in statement]
    assert len(clock) == 1
