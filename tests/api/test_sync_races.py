"""A partner syncing while clinicians edit: what it reads between a change's commit and the cache's drop.

Found from outside (gunicorn, 3 workers, production settings, PostgreSQL and Redis): a partner that polls the
change feed and asks each changed article with its ``ETag`` must get the new revision once the feed names it.
A reader that works out an article while a change to it is being committed caches what it read (the change is
not committed yet, so the version it checks still matches); the change then commits, and until its commit's drop
reaches the cache every app server answers from that entry. A partner who reads the feed in that moment is told
``304 Not Modified`` for the revision the feed just announced, and polls the feed on past it.

Each step runs on its own connection (a thread), released by events, not by time.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from articles import services
from articles.models import Article, AuditEntry, ChangeFeedLock, SearchEntry, SearchTerm
from tests.factories import article_document

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

SLUG = "sync-race"
WAIT = 30  # seconds: only ever reached if a step hangs


def in_the_window(
    change: Callable[[], Any], while_uncommitted: Callable[[], None], after_commit: Callable[[], Any]
) -> Any:
    """Run ``change`` on a connection of its own, in one transaction; call ``while_uncommitted`` once it has made the
    change and before it commits, and ``after_commit`` once it has committed and before anything its commit does (the
    cache drops) runs. Returns what ``after_commit`` returned."""
    made, may_commit, committed, may_go_on = (threading.Event() for _ in range(4))
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with transaction.atomic():
                # Registered first, so it runs first once the transaction commits: before the change's own drops.
                transaction.on_commit(lambda: (committed.set(), may_go_on.wait(WAIT)))
                change()
                made.set()
                may_commit.wait(WAIT)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            made.set()
            committed.set()
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert made.wait(WAIT)
        while_uncommitted()
        may_commit.set()
        assert committed.wait(WAIT)
        assert not errors, errors
        return after_commit()
    finally:
        may_commit.set()
        may_go_on.set()
        thread.join(WAIT)
        assert not errors, errors


def test_a_revision_the_feed_names_is_never_answered_304_from_the_revision_it_replaced(api, workflow, author):
    live = workflow.live(article_document(slug=SLUG))
    first = api.get(f"/api/v1/articles/{SLUG}/")
    assert first.status_code == 200
    after = api.json("/api/v1/changes/")["next"]
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)

    def publish() -> None:
        workflow.take_live(draft)

    def partner_reads_the_article() -> None:  # another partner, or this one, while the publication commits
        assert api.get(f"/api/v1/articles/{SLUG}/").json()["revision"]["number"] == 1

    def partner_syncs() -> tuple[list[Any], Any]:
        events = api.json(after)["events"]
        return events, api.get(f"/api/v1/articles/{SLUG}/", HTTP_IF_NONE_MATCH=first["ETag"])

    events, answer = in_the_window(publish, partner_reads_the_article, partner_syncs)
    assert [(event["type"], event["revision"]) for event in events] == [("superseded", 1), ("published", 2)]
    assert answer.status_code == 200, "304: the partner keeps revision 1, which the feed says was replaced"
    assert answer.json()["revision"]["number"] == 2


def test_a_withdrawal_the_feed_names_is_answered_410_at_once(api, workflow, publisher):
    live = workflow.live(article_document(slug=SLUG))
    first = api.get(f"/api/v1/articles/{SLUG}/")
    after = api.json("/api/v1/changes/")["next"]

    def withdraw() -> None:
        services.revision_withdraw(revision=live, actor=publisher, reason="Wrong dose.")

    def partner_reads_the_article() -> None:
        assert api.get(f"/api/v1/articles/{SLUG}/").status_code == 200

    def partner_syncs() -> tuple[list[Any], Any]:
        events = api.json(after)["events"]
        return events, api.get(f"/api/v1/articles/{SLUG}/", HTTP_IF_NONE_MATCH=first["ETag"])

    events, answer = in_the_window(withdraw, partner_reads_the_article, partner_syncs)
    assert [event["type"] for event in events] == ["withdrawn"]
    assert answer.status_code == 410, f"{answer.status_code}: the partner keeps an article the feed says was withdrawn"


def test_a_list_read_after_a_change_commits_shows_it(api, workflow, publisher):
    """The article list's 304 follows the site's clock (one cache entry): the same window."""
    live = workflow.live(article_document(slug=SLUG))
    first = api.get("/api/v1/articles/")
    assert [row["slug"] for row in first.json()["results"]] == [SLUG]

    def withdraw() -> None:
        services.revision_withdraw(revision=live, actor=publisher, reason="Wrong dose.")

    def partner_reads_the_list() -> None:
        assert api.get("/api/v1/articles/").status_code == 200

    def partner_syncs() -> Any:
        return api.get("/api/v1/articles/", HTTP_IF_NONE_MATCH=first["ETag"])

    answer = in_the_window(withdraw, partner_reads_the_list, partner_syncs)
    assert answer.status_code == 200, "304: the list still names the withdrawn article"
    assert answer.json()["results"] == []


def test_updated_since_dates_a_vocabulary_change_once_it_holds_the_public_clock_and_has_done_its_work(
    api, workflow, reviewer
):
    """Found from outside (gunicorn, production settings, PostgreSQL, a library of 20,015 live articles that all show
    one symptom): renaming that symptom stamped its articles 0.17 s after the rename began and committed 13.7 s
    later (the audit entry on every article, the search index and the stamping itself, all set-wise and growing with
    the articles). A partner following ``updated_since`` ("ask from a minute before your last request") misses any
    change whose stamp is older than that minute when it commits: at 100,000 articles the same rename ran past it.
    The stamp also came before the wait for the public clock, which another change may hold for a lock wait.

    A change is dated once it holds the public clock, the last lock it takes, and has done everything else: between
    its stamp and its commit there is only the stamping. Each statement is noted as it returns (a lock it waited for
    is held by then); no durations are compared."""
    live = workflow.live(article_document(slug=SLUG))
    returned: list[tuple[str, datetime.datetime]] = []

    def note(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        returned.append((sql, timezone.now()))
        return result

    with connection.execute_wrapper(note), transaction.atomic():
        # Registered first, so it runs first once the transaction commits: it marks the commit.
        transaction.on_commit(lambda: returned.append(("COMMIT", timezone.now())))
        services.medication_update(
            medication=live.article.medication,
            actor=reviewer,
            changes={"generic_name": "Amlodipine besilate"},
            reason="The salt's name, as the BNF gives it.",
        )
    # The stamping: the clock's and the articles' stamps, in that order.
    stamp_writes = (
        f'UPDATE "{ChangeFeedLock._meta.db_table}" SET "public_version"',  # noqa: S608 (a prefix to look for)
        f'UPDATE "{Article._meta.db_table}" SET "public_version"',  # noqa: S608
    )
    stamping = next(at for at, (sql, _) in enumerate(returned) if sql.startswith(stamp_writes[0]))
    committed = returned.index(next(each for each in returned if each[0] == "COMMIT"))
    stamp = Article.objects.get(slug=SLUG).public_updated_at
    before = returned[:stamping]
    for table in (ChangeFeedLock, AuditEntry, SearchEntry):  # the clock's lock, the audit, the search index
        assert any(table._meta.db_table in sql for sql, _ in before), f"{table.__name__} not written before"
    late = [sql[:80] for sql, moment in before if moment > stamp]
    assert not late, f"dated before these returned (a lock wait, work that grows with the articles): {late}"
    after = [
        sql[:80]
        for sql, _ in returned[stamping + 1 : committed]
        if "SAVEPOINT" not in sql and not sql.startswith(stamp_writes)
    ]
    assert not after, f"work between the stamp and the commit: {after}"
    # As the partner asks: its last request came just before the stamping, yet the change is listed.
    since = before[-1][1].isoformat()
    assert [row["slug"] for row in api.json("/api/v1/articles/", {"updated_since": since})["results"]] == [SLUG]


def test_a_vocabulary_change_takes_the_public_clock_before_it_writes_the_search_index(workflow, reviewer):
    """Found in review: dated last (above), a rename wrote the search index before it took the public clock, where
    every workflow step takes the clock first and then indexes (``_set_state``: ``public_change``, then
    ``index_articles``). The index's new words go into a unique column, so a rename adding "besilate" while a publish
    held the clock and added it too waited on each other: a deadlock, one of them refused. The clock is taken first,
    in the one order every public change takes its locks; only its stamp comes last."""
    live = workflow.live(article_document(slug=SLUG))
    statements: list[str] = []

    def note(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        services.medication_update(
            medication=live.article.medication,
            actor=reviewer,
            changes={"generic_name": "Amlodipine besilate"},
            reason="The salt's name, as the BNF gives it.",
        )
    clock = next(at for at, sql in enumerate(statements) if ChangeFeedLock._meta.db_table in sql)
    index_tables = (SearchEntry._meta.db_table, SearchTerm._meta.db_table)
    index_writes = [
        at
        for at, sql in enumerate(statements)
        if sql.lstrip().startswith(("INSERT", "UPDATE", "DELETE")) and any(table in sql for table in index_tables)
    ]
    assert index_writes, "the rename wrote no search index"
    assert clock < min(index_writes), "the search index was written before the public clock was taken"
