"""Races on real PostgreSQL row locks: one lock order (article, then revision) everywhere.

Each race runs many trials, two threads on their own database connections
released by a barrier at the same moment. Whatever the interleaving, each side
either does its work or is refused with a clear message; nobody deadlocks and
the admin never answers 500.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection
from django.test import Client
from django.utils import timezone

from articles import services
from articles.models import Revision, RevisionState
from tests.articles.test_admin import change_url, form_data
from tests.conftest import approve, take_live
from tests.factories import article_document

TRIALS = 20

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def race(*actions: Callable[[], str]) -> list[str]:
    """Run the actions at once, each on its own connection; return what each one says happened."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = ["did not finish"] * len(actions)

    def run(index: int, action: Callable[[], str]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = action()
        except (ValidationError, PermissionDenied) as error:
            outcomes[index] = f"refused: {' '.join(getattr(error, 'messages', [str(error)]))}"
        except DatabaseError as error:  # a deadlock or lock timeout escaping a service
            outcomes[index] = f"database error: {error}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def due_scheduled(author: Any, reviewer: Any, publisher: Any, n: int) -> tuple[Revision, Revision]:
    """A live revision and a scheduled one whose time has come, not yet recorded."""
    live = take_live(
        services.article_import(document=article_document(slug=f"race-{n}"), actor=author), author, reviewer, publisher
    )
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    draft = approve(services.revision_submit(revision=draft, actor=author, change_summary="Scheduled."), reviewer)
    scheduled = services.revision_publish(
        revision=draft, actor=publisher, publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    # Let the hour pass: the schedule is now due, and nothing has recorded it yet.
    Revision.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() - datetime.timedelta(seconds=1))
    return live, Revision.objects.get(pk=scheduled.pk)


def test_admin_save_racing_submit_never_deadlocks(author, second_author):
    outcomes: list[str] = []
    for n in range(TRIALS):
        draft = services.article_import(document=article_document(slug=f"race-{n}"), actor=author)
        client = Client()
        client.force_login(second_author)
        data = form_data(client, draft)
        data["sections-0-body"] = f"An edit made while the draft is submitted ({n}) [@ref-1]."

        def save(client: Client = client, draft: Revision = draft, data: dict[str, Any] = data) -> str:
            response = client.post(change_url(draft), data)
            return f"admin {response.status_code}"

        def submit(draft: Revision = draft) -> str:
            services.revision_submit(revision=draft, actor=author, change_summary="Ready.")
            return "submitted"

        outcomes.extend(race(save, submit))
    assert not [o for o in outcomes if o.startswith(("database error", "did not finish", "admin 500"))], outcomes
    # The admin either saved (302), refused a frozen revision (403), or said why it did not save (200).
    assert {o for o in outcomes if o.startswith("admin")} <= {"admin 302", "admin 403", "admin 200"}


@pytest.mark.parametrize("step", ["publish", "withdraw"])
def test_publish_scheduled_racing_publish_or_withdraw_never_deadlocks(step, author, reviewer, publisher):
    outcomes: list[str] = []
    for n in range(TRIALS):
        live, scheduled = due_scheduled(author, reviewer, publisher, n)
        if step == "publish":
            other = services.revision_create_draft(article=live.article, actor=author, based_on=live)
            other = approve(services.revision_submit(revision=other, actor=author, change_summary="Next."), reviewer)

            def act(other: Revision = other) -> str:
                services.revision_publish(revision=other, actor=publisher)
                return "published"
        else:

            def act(scheduled: Revision = scheduled) -> str:
                services.revision_withdraw(revision=scheduled, actor=publisher, reason="Withdrawn in a race.")
                return "withdrawn"

        def record() -> str:
            return f"recorded {len(services.revisions_publish_due())}"

        outcomes.extend(race(record, act))
        states = set(live.article.revisions.values_list("state", flat=True))
        assert RevisionState.SCHEDULED not in states
        assert Revision.objects.published().filter(article=live.article).count() == (step == "publish")
    assert not [o for o in outcomes if o.startswith(("database error", "did not finish", "refused"))], outcomes


@pytest.mark.parametrize("other", ["copy", "import"])
def test_two_new_drafts_at_once_leave_one_open_draft(other, author, second_author, reviewer, publisher):
    """Two clinicians press "Start a new draft" (or one imports a file) at the same moment: one draft is started,
    the other is told about it; never two open drafts, never a database error."""
    outcomes: list[str] = []
    for n in range(TRIALS):
        live = take_live(
            services.article_import(document=article_document(slug=f"race-{n}"), actor=author),
            author,
            reviewer,
            publisher,
        )

        def copy(live: Revision = live) -> str:
            services.revision_create_draft(article=live.article, actor=author, based_on=live)
            return "started"

        def another(live: Revision = live) -> str:
            if other == "copy":
                services.revision_create_draft(article=live.article, actor=second_author, based_on=live)
            else:
                services.article_import(document=article_document(slug=live.article.slug), actor=second_author)
            return "started"

        outcomes.extend(race(copy, another))
        assert Revision.objects.filter(article=live.article).editable().count() == 1
    assert not [o for o in outcomes if o.startswith(("database error", "did not finish"))], outcomes
    assert outcomes.count("started") == TRIALS, outcomes
    refused = [o for o in outcomes if o != "started"]
    assert all(o.startswith("refused: No new draft started: revision 2 of race-") for o in refused), refused


def locked_tables(action: Callable[[], Any]) -> list[str]:
    """The tables whose rows ``action`` locks (SELECT ... FOR UPDATE), in the order it locks them."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, contextlib.suppress(ValidationError, PermissionDenied):
        action()
    tables = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if "FOR UPDATE" in sql:
            table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
            tables.append(table)
    return tables


def assert_article_first(tables: list[str]) -> None:
    assert tables, "nothing was locked"
    assert tables[0] == "articles_article", tables
    # Nothing of the revision's is locked before its article.
    assert "articles_revision" not in tables[: tables.index("articles_article")]


def test_every_path_locks_the_article_before_its_revisions(author, reviewer, publisher):
    """Deterministic: the order of row locks, read from the SQL each path sends."""
    live, scheduled = due_scheduled(author, reviewer, publisher, 0)
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    client = Client()
    client.force_login(author)
    data = form_data(client, draft)
    data["sections-0-body"] = "An edit [@ref-1]."
    assert_article_first(locked_tables(lambda: client.post(change_url(draft), data)))
    assert_article_first(
        locked_tables(lambda: services.revision_submit(revision=draft, actor=author, change_summary="Ready."))
    )
    assert_article_first(locked_tables(lambda: approve(draft, reviewer)))
    assert_article_first(locked_tables(lambda: services.revision_publish(revision=draft, actor=publisher)))

    live, scheduled = due_scheduled(author, reviewer, publisher, 1)
    assert_article_first(locked_tables(lambda: services.revision_unschedule(revision=scheduled, actor=publisher)))
    live, scheduled = due_scheduled(author, reviewer, publisher, 2)
    assert_article_first(
        locked_tables(lambda: services.revision_withdraw(revision=scheduled, actor=publisher, reason="Gone."))
    )
    live, scheduled = due_scheduled(author, reviewer, publisher, 3)
    assert_article_first(locked_tables(services.revisions_publish_due))


@contextlib.contextmanager
def article_locked_elsewhere(article_id: int) -> Iterator[None]:
    """Another transaction holds the article's row lock meanwhile, and this connection waits for a lock 200 ms at
    most (PostgreSQL): as when a long step on the article holds it past ``DATABASE_LOCK_TIMEOUT_MS``."""
    from django.db import transaction

    from articles.models import Article

    holding, release = threading.Event(), threading.Event()

    def hold_the_article() -> None:
        try:
            with transaction.atomic():
                Article.objects.select_for_update().get(pk=article_id)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_article)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 200")
        yield
    finally:
        release.set()
        holder.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def test_a_lock_wait_that_times_out_is_a_clear_try_again_not_a_500(author, reviewer, publisher):
    """Someone holds the article's lock too long: the admin says so and changes nothing; the API would say 409."""

    draft = services.article_import(document=article_document(), actor=author)
    approved = approve(services.revision_submit(revision=draft, actor=author, change_summary="Ready."), reviewer)
    with article_locked_elsewhere(approved.article_id):
        client = Client()
        client.force_login(publisher)
        url = f"/admin/articles/revision/{approved.pk}/transition/publish/"
        response = client.post(url, {"publish-publish_at": ""}, follow=True)
    assert response.status_code == 200
    assert "someone else changed this at the same moment" in response.content.decode()
    assert Revision.objects.get(pk=approved.pk).state == RevisionState.APPROVED


def test_the_api_answers_a_lock_conflict_with_409_and_retry_after(rf):
    """The same handler serves the API: JSON, 409, Retry-After; nothing else is caught."""
    import psycopg
    from django.db import OperationalError

    from contentsite.middleware import LockConflictMiddleware

    middleware = LockConflictMiddleware(lambda request: None)
    try:
        raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected("deadlock detected")
    except OperationalError as error:
        conflict = error
    response = middleware.process_exception(rf.get("/api/v1/articles/"), conflict)
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert json.loads(response.content)["code"] == "conflict"
    assert middleware.process_exception(rf.get("/api/v1/articles/"), OperationalError("server closed")) is None


def scheduled_soon(author: Any, reviewer: Any, publisher: Any, slug: str, seconds: float) -> tuple[Revision, Revision]:
    """A live revision and another scheduled ``seconds`` from now."""
    live = take_live(
        services.article_import(document=article_document(slug=slug), actor=author), author, reviewer, publisher
    )
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    draft = approve(services.revision_submit(revision=draft, actor=author, change_summary="Scheduled."), reviewer)
    at = timezone.now() + datetime.timedelta(hours=1)
    scheduled = services.revision_publish(revision=draft, actor=publisher, publish_at=at)
    Revision.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() + datetime.timedelta(seconds=seconds))
    return live, Revision.objects.get(pk=scheduled.pk)


def holding_the_public_clock(seconds: float) -> tuple[threading.Thread, threading.Event]:
    """Another public change in flight: a transaction holding the public clock's row for ``seconds``."""
    from django.db import transaction

    from articles.models import ChangeFeedLock

    taken = threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                ChangeFeedLock.objects.select_for_update().get_or_create(pk=1)
                taken.set()
                threading.Event().wait(seconds)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(timeout=30)
    return thread, taken


def test_a_withdrawal_that_waits_past_a_scheduled_time_withdraws_what_readers_were_shown(author, reviewer, publisher):
    """Found from outside: revision 2 was scheduled; the withdrawal of revision 1 waited for the public clock (another
    change held it) while 2's time passed, so readers saw 2 live, then 410; the withdrawal cancelled 2 as if it had
    never been live, and the change feed said only "1 withdrawn" (a partner replaying it kept 2 live for good)."""
    from articles.models import ChangeEvent

    live, scheduled = scheduled_soon(author, reviewer, publisher, "withdrawn-while-waiting", seconds=1.0)
    thread, _ = holding_the_public_clock(3.0)
    services.revision_withdraw(revision=live, actor=publisher, reason="Safety concern.")
    thread.join(timeout=30)
    states = dict(live.article.revisions.values_list("number", "state"))
    assert states == {live.number: RevisionState.SUPERSEDED, scheduled.number: RevisionState.WITHDRAWN}
    feed = list(ChangeEvent.objects.filter(article=live.article).order_by("pk").values_list("revision__number", "kind"))
    assert feed[-2:] == [(scheduled.number, "published"), (scheduled.number, "withdrawn")], feed


def test_a_cancellation_that_waits_past_the_scheduled_time_is_refused_and_the_revision_is_live(
    author, reviewer, publisher
):
    """The same wait for a cancellation: readers saw revision 2 live from its time, so it stays live and recorded."""
    live, scheduled = scheduled_soon(author, reviewer, publisher, "cancelled-while-waiting", seconds=61.0)
    Revision.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() + datetime.timedelta(seconds=1.0))
    thread, _ = holding_the_public_clock(3.0)
    with pytest.raises(ValidationError):
        services.revision_unschedule(revision=scheduled, actor=publisher)
    thread.join(timeout=30)
    # Still live, as readers were shown it: the refusal rolled back, and the next step or job records it.
    assert Revision.objects.get(pk=scheduled.pk).state in (RevisionState.SCHEDULED, RevisionState.PUBLISHED)
    assert list(Revision.objects.published().filter(article=live.article).values_list("pk", flat=True)) == [
        scheduled.pk
    ]
