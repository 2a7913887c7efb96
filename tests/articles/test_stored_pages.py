"""Stored article pages (``articles.models.pages``, ``articles.stored_pages``): a shared-cache miss reads the page
rendered when what it shows last changed, and is never shown one that is out of date.

Every test compares what a reader is served with the page rendered afresh from the database (stored pages off), byte
for byte: a stored page is only ever a copy of that.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services, views
from articles.models import STORED_PAGE_MAX_AGE, Article, Medication, Revision, StoredPage
from articles.stored_pages import stale_article_ids, store_page, store_pages
from contentsite import early
from tests.factories import article_document, demo_document, every_branch_document

SLUG = "stored"
URL = f"/articles/{SLUG}/"
NO_SHARED_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture
def no_shared_cache(settings: Any) -> None:
    """Redis down, or evicted: the shared cache misses everything."""
    settings.CACHES = NO_SHARED_CACHE


def forget_page_memos() -> None:
    """What the process kept whole of pages (a reader on another app server has none of it)."""
    views._pages.clear()
    early._answers.clear()


def served(client: Any, url: str = URL) -> tuple[Any, list[str]]:
    """A reader's request (on a fresh app server), with its statements; ``response.renders``: how many times the
    article page was rendered for it."""
    forget_page_memos()
    before = Renders.count
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    response.renders = Renders.count - before
    return response, [query["sql"] for query in captured]


def rendered_afresh(client: Any, settings: Any, url: str = URL) -> Any:
    """The page as the database renders it now, no stored page read."""
    settings.STORED_ARTICLE_PAGES = False
    try:
        forget_page_memos()
        return client.get(url)
    finally:
        settings.STORED_ARTICLE_PAGES = True
        forget_page_memos()


class Renders:
    """Counts the article page's renders (``views.render_to_string``), readers' and writers' alike."""

    count = 0


@pytest.fixture(autouse=True)
def renders(monkeypatch: pytest.MonkeyPatch) -> None:
    real = views.render_to_string

    def counting(template: str, *args: Any, **kwargs: Any) -> str:
        if template == "articles/article_detail.html":
            Renders.count += 1
        return real(template, *args, **kwargs)

    monkeypatch.setattr(views, "render_to_string", counting)


def go_live(workflow: Any, capture: Any, document: dict[str, Any] | None = None) -> Revision:
    """Publish, with the commit's work done (its page stored, as after a real commit)."""
    with capture(execute=True):
        return workflow.live(document or article_document(slug=SLUG))


def retitled(workflow: Any, live: Revision, title: str) -> Revision:
    return workflow.edited_draft(live, title=title)


def test_a_miss_reads_the_stored_page_and_renders_nothing(
    client, workflow, no_shared_cache, settings, django_capture_on_commit_callbacks
):
    """With nothing in the shared cache, the page is one statement (the article, its public revisions and its
    stored page) and the pointer's stamp check, and is not rendered: before, 6 statements and a render."""
    go_live(workflow, django_capture_on_commit_callbacks)
    response, sql = served(client)
    assert response.status_code == 200
    assert response.renders == 0
    assert len(sql) <= 2, sql
    assert response.content == rendered_afresh(client, settings).content


@pytest.mark.parametrize("document", [demo_document, every_branch_document], ids=["demo", "every-branch"])
def test_the_stored_page_is_the_page_byte_for_byte(
    client, workflow, no_shared_cache, settings, django_capture_on_commit_callbacks, document
):
    revision = go_live(workflow, django_capture_on_commit_callbacks, document())
    url = f"/articles/{revision.article.slug}/"
    assert StoredPage.objects.filter(article=revision.article, revision_id=revision.pk).exists()
    response, _ = served(client, url)
    assert response.status_code == 200 and response.renders == 0
    fresh = rendered_afresh(client, settings, url)
    assert response.content == fresh.content
    assert response["ETag"] == fresh["ETag"]
    assert response.get("Last-Modified") == fresh.get("Last-Modified")


def _republish(workflow: Any, live: Revision, **kwargs: Any) -> bytes:
    workflow.take_live(retitled(workflow, live, "A title nobody stored"))
    return b"A title nobody stored"


def _withdraw(workflow: Any, live: Revision, publisher: Any, **kwargs: Any) -> None:
    services.revision_withdraw(revision=live, actor=publisher, reason="Wrong dose.")


def _confirm_review(workflow: Any, live: Revision, reviewer: Any, **kwargs: Any) -> bytes:
    due = timezone.localdate() + datetime.timedelta(days=400)
    services.revision_confirm_review(revision=live, actor=reviewer, next_review_due=due)
    return due.isoformat().encode()


def _rename_medication(workflow: Any, live: Revision, reviewer: Any, **kwargs: Any) -> bytes:
    medication = Medication.objects.get(pk=live.article.medication_id)
    services.medication_update(
        medication=medication, actor=reviewer, changes={"generic_name": "Renamedipine"}, reason="Its name changed."
    )
    return b"Renamedipine"


@pytest.mark.parametrize("change", [_republish, _withdraw, _confirm_review, _rename_medication])
def test_a_change_not_yet_stored_is_shown_at_once(
    client, workflow, publisher, reviewer, no_shared_cache, settings, django_capture_on_commit_callbacks, change
):
    """The change's commit work (storing its page) has not run: the reader is shown the change, rendered, never the
    stored page of before. Once ``store_article_pages`` has run, the new page is read from its row again."""
    live = go_live(workflow, django_capture_on_commit_callbacks)
    before, _ = served(client)
    assert before.status_code == 200 and before.renders == 0
    shown = change(workflow, live, publisher=publisher, reviewer=reviewer)
    response, _ = served(client)
    fresh = rendered_afresh(client, settings)
    assert response.status_code == fresh.status_code
    assert response.content == fresh.content
    if shown is None:
        assert response.status_code == 410
        assert not stale_article_ids(10)
        return
    assert shown in response.content and shown not in before.content
    assert response.renders == 1  # nothing stored was served
    assert stale_article_ids(10) == [live.article_id]
    call_command("store_article_pages", stdout=io.StringIO())
    assert stale_article_ids(10) == []
    again, sql = served(client)
    assert again.renders == 0 and len(sql) <= 2
    assert again.content == fresh.content


def test_a_withdrawn_article_keeps_no_stored_page(workflow, publisher, django_capture_on_commit_callbacks):
    live = go_live(workflow, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.revision_withdraw(revision=live, actor=publisher, reason="Wrong dose.")
    assert not StoredPage.objects.filter(article_id=live.article_id).exists()


def test_a_page_whose_review_falls_overdue_is_rendered_from_that_day(
    client, workflow, reviewer, clock, no_shared_cache, settings, django_capture_on_commit_callbacks
):
    live = go_live(workflow, django_capture_on_commit_callbacks)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.revision_confirm_review(revision=live, actor=reviewer, next_review_due=tomorrow)
    stored = StoredPage.objects.get(article_id=live.article_id)
    assert stored.changes_at == timezone.make_aware(
        datetime.datetime.combine(tomorrow + datetime.timedelta(days=1), datetime.time.min)
    )
    today, _ = served(client)
    assert today.renders == 0 and b"This article is due for review." not in today.content
    clock.advance(stored.changes_at - timezone.now() + datetime.timedelta(seconds=1))
    tomorrow, _ = served(client)
    assert tomorrow.renders == 1
    assert b"This article is due for review." in tomorrow.content
    assert tomorrow.content == rendered_afresh(client, settings).content
    assert stale_article_ids(10) == [live.article_id]


def test_a_scheduled_replacement_is_shown_from_its_time(
    client, workflow, clock, no_shared_cache, settings, django_capture_on_commit_callbacks
):
    live = go_live(workflow, django_capture_on_commit_callbacks)
    at = timezone.now() + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.take_live(retitled(workflow, live, "Scheduled title"), publish_at=at)
    before, _ = served(client)
    assert before.renders == 0 and b"Scheduled title" not in before.content
    clock.advance(datetime.timedelta(hours=1, seconds=1))
    after, _ = served(client)
    assert after.renders == 1 and b"Scheduled title" in after.content
    assert after.content == rendered_afresh(client, settings).content


def test_a_page_stored_by_another_release_is_rendered(
    client, workflow, monkeypatch, no_shared_cache, django_capture_on_commit_callbacks
):
    go_live(workflow, django_capture_on_commit_callbacks)
    monkeypatch.setattr(views, "PAGE_CACHE_VERSION", views.PAGE_CACHE_VERSION + 1)
    response, _ = served(client)
    assert response.status_code == 200 and response.renders == 1
    assert stale_article_ids(10) != []


def test_a_page_stored_by_another_release_of_the_code_is_rendered(
    client, workflow, monkeypatch, no_shared_cache, django_capture_on_commit_callbacks
):
    """A template or the Python that writes the page changed in a release, its markup version not bumped: the page
    kept in the database from before is not served."""
    go_live(workflow, django_capture_on_commit_callbacks)
    assert served(client)[0].renders == 0
    monkeypatch.setattr(views, "code_release", lambda: "another-release")
    response, _ = served(client)
    assert response.status_code == 200 and response.renders == 1
    assert stale_article_ids(10) != []


def test_a_page_stored_more_than_a_day_ago_is_rendered_until_stored_again(
    client, workflow, clock, no_shared_cache, settings, django_capture_on_commit_callbacks
):
    """A write around the services moves no version: the page's age bounds how long a stored page can miss it."""
    live = go_live(workflow, django_capture_on_commit_callbacks)
    clock.advance(STORED_PAGE_MAX_AGE + datetime.timedelta(seconds=1))
    response, _ = served(client)
    assert response.renders == 1
    assert response.content == rendered_afresh(client, settings).content
    assert stale_article_ids(10) == [live.article_id]
    call_command("store_article_pages", stdout=io.StringIO())
    assert served(client)[0].renders == 0


def test_stored_pages_off_renders_every_miss(
    client, workflow, settings, no_shared_cache, django_capture_on_commit_callbacks
):
    go_live(workflow, django_capture_on_commit_callbacks)
    settings.STORED_ARTICLE_PAGES = False
    assert served(client)[0].renders == 1
    assert served(client)[0].renders == 1


def test_the_command_stores_what_is_missing_or_stale_once(workflow):
    """Rows written around the commit (here: no commit work run) are stored by the scheduled command; a second run
    finds nothing to do; ``--limit`` bounds a run."""
    ids = sorted(workflow.live(article_document(slug=f"stored-{n}")).article_id for n in range(3))
    assert stale_article_ids(10) == ids
    out = io.StringIO()
    call_command("store_article_pages", "--limit", "1", stdout=out)
    assert "Stored 1 article pages." in out.getvalue()
    assert stale_article_ids(10) == ids[1:]
    call_command("store_article_pages", stdout=out)
    assert stale_article_ids(10) == []
    call_command("store_article_pages", stdout=(out := io.StringIO()))
    assert "Stored 0 article pages." in out.getvalue()


@pytest.mark.parametrize("limit", ["0", "-5"])
def test_a_limit_below_one_is_refused_with_nothing_stored(workflow, limit):
    workflow.live(article_document(slug=SLUG))
    with pytest.raises(CommandError, match="--limit must be 1 or more"):
        call_command("store_article_pages", "--limit", limit, stdout=io.StringIO())
    assert not StoredPage.objects.exists()


def test_an_older_rendering_never_replaces_a_newer_one(workflow):
    """Two writers (a commit's and the schedule's, or two machines): the row kept is the one rendered at the later
    version of the article, whichever finishes last."""
    live = workflow.live(article_document(slug=SLUG))
    assert store_pages([live.article_id]) == 1
    newer = Article.objects.get(pk=live.article_id).public_version + 10
    StoredPage.objects.filter(article_id=live.article_id).update(version=newer, html="newer")
    store_page(SLUG)
    assert StoredPage.objects.values_list("version", "html").get(article_id=live.article_id) == (newer, "newer")


def test_the_history_page_is_never_served_the_stored_article_page(
    client, workflow, no_shared_cache, settings, django_capture_on_commit_callbacks
):
    go_live(workflow, django_capture_on_commit_callbacks)
    history, _ = served(client, f"{URL}history/")
    assert history.status_code == 200
    assert history.content == rendered_afresh(client, settings, f"{URL}history/").content
    assert history.content != served(client)[0].content
