"""A committed change's drops and purges are never lost: kept in its transaction until the cache and proxy take them.

A publication, withdrawal or key revocation drops what the shared cache holds for
it (a page's live pointer, a key's row) once it commits. If the cache refuses or
does not answer at that moment, or the process dies first, the other processes
would go on reading the old pointer once the cache answers again (a restarted Redis loads
what it saved; a replica promoted by a failover holds what it copied), until it expires
(``LIVE_POINTER_SECONDS``: minutes for a withdrawn page). The drop is written in the
change's own transaction (``PendingInvalidation``) and kept until the cache has taken
it: retried on commit, by the next change, and by ``manage.py retry_invalidations``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import cache, caches
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection

import partners.models
from articles import services
from articles.live import identity_cache_key
from contentsite import invalidation
from contentsite.cache import forget_failures
from contentsite.invalidation import retry_pending
from contentsite.models import PendingInvalidation
from partners.models import PartnerAPIKey
from partners.services import partner_key_revoke
from tests.outages import RedisServer, redis_cache

pytestmark = pytest.mark.django_db

URL = "/articles/{}/"


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invalidation, "BACKOFF_SECONDS", 0)


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisServer]:
    """A redis-server of the test's own that keeps its data over a restart, as Redis does by default."""
    server = RedisServer(persistent=True).start()
    settings.CACHES = redis_cache(server.url)
    yield server
    server.stop()


def as_committed() -> None:
    """What the fixtures' changes left for their commits (which a test's transaction never runs) is taken."""
    retry_pending()


def read_live(client: Any, workflow: Any, slug: str, medication: str) -> Any:
    """A live article, read once: its pointer and page are in the cache."""
    live = workflow.live(slug=slug, medication=medication)
    as_committed()
    assert client.get(URL.format(slug)).status_code == 200
    return live


@pytest.fixture
def retry_after_passes(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``retry_after_passes()``: REDIS_RETRY_AFTER_SECONDS pass for this process (the cache module's clock)."""
    import contentsite.cache

    def passes() -> None:
        later = contentsite.cache.monotonic() + settings.REDIS_RETRY_AFTER_SECONDS
        monkeypatch.setattr(contentsite.cache, "monotonic", lambda: later)

    return passes


def cannot_take_drops(server: RedisServer, fault: str) -> None:
    if fault == "restart":
        server.stop(keep_data=True)  # saves what it holds, and loads it when it starts again
    else:
        server.refuse_writes(fault)


def the_cache_answers_again(server: RedisServer, fault: str) -> None:
    if fault == "restart":
        server.start()
    else:
        server.take_writes()
    forget_failures()  # REDIS_RETRY_AFTER_SECONDS have passed, in every process


def held_in_redis(server: RedisServer, key: str) -> bool:
    """Whether ``server`` holds the cache's ``key``, asked on a connection of a client of its own (one of the cache's
    own would drop what is owed first)."""
    with redis.Redis.from_url(server.url) as own_client:
        return bool(own_client.exists(cache.make_key(key)))


def withdraw(revision: Any, publisher: Any, capture: Any) -> None:
    with capture(execute=True):
        services.revision_withdraw(revision=revision, actor=publisher, reason="Under review: a safety concern.")


@pytest.mark.outage
@pytest.mark.parametrize("fault", ["restart", "READONLY"])
def test_a_withdrawal_the_cache_could_not_take_reaches_readers_once_it_answers_again(
    client, workflow, publisher, own_redis, django_capture_on_commit_callbacks, no_backoff, fault
):
    live = read_live(client, workflow, "withdrawn-in-an-outage", "outagamol")
    cannot_take_drops(own_redis, fault)
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    assert PendingInvalidation.objects.count() == 1, "kept until the cache takes it"
    the_cache_answers_again(own_redis, fault)
    assert held_in_redis(own_redis, identity_cache_key(live.article.slug, kind="article")), "the old pointer is back"

    call_command("retry_invalidations")  # cron, every minute, on every app server

    assert client.get(URL.format(live.article.slug)).status_code == 410
    assert not PendingInvalidation.objects.exists()


@pytest.mark.outage
def test_a_process_that_saw_the_cache_fail_drops_what_is_owed_before_it_reads_it_again(
    client, workflow, publisher, own_redis, django_capture_on_commit_callbacks, no_backoff, retry_after_passes
):
    """No retry yet, no other change: the process's first read once Redis answers again is already the new state."""
    live = read_live(client, workflow, "owed-on-recovery", "owedamol")
    cannot_take_drops(own_redis, "restart")
    assert client.get(URL.format(live.article.slug)).status_code == 200  # from the database: Redis is down
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    own_redis.start()  # with what it saved: the old pointer and page
    assert client.get(URL.format(live.article.slug)).status_code == 410, "not asked again yet: the database"
    retry_after_passes()

    assert client.get(URL.format(live.article.slug)).status_code == 410
    assert PendingInvalidation.objects.count() == 1, "reads never write: the retry deletes it"


@pytest.mark.outage
@pytest.mark.parametrize("fault", ["restart", "READONLY"])
@pytest.mark.parametrize("process", ["its connection closed meanwhile", "started since"])
def test_a_process_that_never_saw_the_cache_fail_drops_what_is_owed_before_it_reads_on_a_new_connection(
    client, workflow, publisher, own_redis, django_capture_on_commit_callbacks, no_backoff, fault, process
):
    """The change was made by another process, which saw Redis fail. This one made no request meanwhile (a restart
    closed its connection) or started since: it has seen no failure, so nothing told it to drop what is owed, and
    Redis holds the old pointer (loaded from what it saved; a replica's copy). Its first read on its new
    connection is already the new state, without waiting for the retry or another change. (A restart closes every
    connection; so does a failover, whose Sentinel kills the demoted primary's clients.)"""
    live = read_live(client, workflow, "owed-to-a-new-connection", "newconnamol")
    cannot_take_drops(own_redis, fault)
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    if fault == "restart":
        own_redis.start()  # with what it saved: the old pointer and page
    forget_failures()  # this process saw nothing fail
    if process == "started since":
        del caches["default"]  # a new backend, client and connection, as a new process has

    assert client.get(URL.format(live.article.slug)).status_code == 410
    assert PendingInvalidation.objects.count() == 1, "reads never write: the retry deletes it"


@pytest.mark.outage
def test_while_redis_refuses_the_drops_a_process_does_not_read_what_they_were_for(
    client, workflow, publisher, own_redis, django_capture_on_commit_callbacks, no_backoff, retry_after_passes
):
    """A failover: the old primary, now a replica, still answers reads with the old pointer, but refuses the drop."""
    live = read_live(client, workflow, "withdrawn-in-a-failover", "failamol")
    own_redis.refuse_writes("READONLY")
    withdraw(live, publisher, django_capture_on_commit_callbacks)

    assert client.get(URL.format(live.article.slug)).status_code == 410, "not the replica's old pointer"

    own_redis.take_writes()  # promoted
    retry_after_passes()
    assert client.get(URL.format(live.article.slug)).status_code == 410
    assert cache.get(identity_cache_key(live.article.slug, kind="article")).gone, "Redis is used again"


@pytest.mark.outage
def test_a_process_drops_every_key_owed_however_many_changes_left_them(own_redis, retry_after_passes):
    """After a long outage with many changes: none of their keys is read back."""
    keys = [f"owed-{n}" for n in range(2500)]
    cache.set_many(dict.fromkeys(keys, "old"))
    PendingInvalidation.objects.bulk_create(
        PendingInvalidation(cache_keys=keys[start : start + 10]) for start in range(0, len(keys), 10)
    )
    own_redis.stop(keep_data=True)
    assert cache.get(keys[0]) is None  # did not answer: not asked for a while
    own_redis.start()
    retry_after_passes()
    assert cache.get_many(keys) == {}


@pytest.mark.outage
def test_the_next_change_takes_what_an_earlier_one_could_not(
    client, workflow, publisher, own_redis, django_capture_on_commit_callbacks, no_backoff
):
    first = read_live(client, workflow, "first-withdrawn", "firstamol")
    second = read_live(client, workflow, "second-withdrawn", "secondamol")
    cannot_take_drops(own_redis, "restart")
    withdraw(first, publisher, django_capture_on_commit_callbacks)
    the_cache_answers_again(own_redis, "restart")

    withdraw(second, publisher, django_capture_on_commit_callbacks)

    assert client.get(URL.format(first.article.slug)).status_code == 410
    assert client.get(URL.format(second.article.slug)).status_code == 410
    assert not PendingInvalidation.objects.exists()


@pytest.mark.outage
@pytest.mark.parametrize("process", ["its connection closed meanwhile", "started since"])
def test_a_redis_back_with_data_from_before_a_change_it_took_does_not_serve_what_the_change_dropped(
    client, workflow, publisher, api_key, own_redis, django_capture_on_commit_callbacks, process
):
    """Redis took the withdrawal's drop at once (nothing is left pending), then came back holding what it held before
    the change: a failover to a replica that had not copied the drop yet, or a restart from a save made before it.
    Found from outside (gunicorn on a Redis restarted from an RDB saved before a publication): the page and the API
    showed the superseded revision for the rest of its pointer's life (up to ``LIVE_POINTER_SECONDS``)."""
    live = read_live(client, workflow, "behind-the-change", "lagamol")
    api_auth = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    assert client.get(f"/api/v1/articles/{live.article.slug}/", **api_auth).status_code == 200
    before = own_redis.snapshot()  # the replica's copy, or the last save
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    assert not PendingInvalidation.objects.exists(), "the cache took the drop"
    own_redis.stop(keep_data=True)
    own_redis.start(from_snapshot=before)
    assert held_in_redis(own_redis, identity_cache_key(live.article.slug, kind="article")), "the old pointer is back"
    if process == "started since":
        del caches["default"]  # a new backend, client and connection, as a new process has
    else:
        client.get(URL.format(live.article.slug))  # finds its connection closed: not asked for a while
        forget_failures()  # that while has passed

    assert client.get(URL.format(live.article.slug)).status_code == 410
    assert client.get(f"/api/v1/articles/{live.article.slug}/", **api_auth).status_code == 410


@pytest.mark.outage
def test_a_key_revoked_before_redis_came_back_with_older_data_stays_refused(
    client, published_article, partner, api_key, own_redis, django_capture_on_commit_callbacks
):
    as_committed()
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    assert client.get("/api/v1/articles/", **auth).status_code == 200  # the key's row is in Redis
    before = own_redis.snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        partner_key_revoke(key=PartnerAPIKey.objects.get(partner=partner))
    assert not PendingInvalidation.objects.exists(), "the cache took the drop"
    own_redis.stop(keep_data=True)
    own_redis.start(from_snapshot=before)
    client.get("/api/v1/articles/", **auth)  # finds its connection closed: not asked for a while
    forget_failures()  # that while has passed

    assert client.get("/api/v1/articles/", **auth).status_code == 401


# While Redis hangs for the revoking process: Redis answers again while the revocation waits, after the cache's
# quick retries on commit (about 3 s); or Redis hangs for longer than a key's row is kept in the cache.
KEY_HANGS = {"answers again while the revocation waits": (8, 4.5), "hangs longer than a cached row lives": (5, None)}


@pytest.mark.outage
@pytest.mark.parametrize("hang", KEY_HANGS)
def test_once_a_revocation_made_while_redis_hung_returns_no_process_accepts_the_key(
    client, published_article, partner, api_key, own_redis, django_capture_on_commit_callbacks, monkeypatch, hang
):
    """Found from outside (gunicorn, 2 workers, production settings, a Redis of its own): the key warm in both
    workers, Redis stopped (SIGSTOP), the key revoked with ``partner_key_revoke`` from ``manage.py shell`` (it returned
    after 2.9 s, the drop 'left for a retry'), Redis resumed 8 s after it was stopped: 389 requests with the revoked
    key were answered 200, the last 53.6 s after the revocation returned. The workers made no request while Redis
    hung, so their connections stayed open and nothing told them to drop what was owed: they read the key's row from
    the cache until it expired (``KEY_CACHE_SECONDS``) or the retry (cron, every minute) took the drop."""
    cached_seconds, resumed_after = KEY_HANGS[hang]
    monkeypatch.setattr(partners.models, "KEY_CACHE_SECONDS", cached_seconds)
    as_committed()
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    assert client.get("/api/v1/articles/", **auth).status_code == 200  # the key's row is in Redis
    other_process = caches["default"]  # its connection stays open, and sees nothing fail
    del caches["default"]  # the revoking process: a connection of its own
    own_redis.hang()
    resumed = threading.Timer(resumed_after or 0, own_redis.resume)
    started = time.monotonic()
    try:
        if resumed_after is not None:
            resumed.start()
        with django_capture_on_commit_callbacks(execute=True):
            partner_key_revoke(key=PartnerAPIKey.objects.get(partner=partner))
        returned_after = time.monotonic() - started
    finally:
        if resumed_after is not None:
            resumed.join()
        own_redis.resume()
    caches["default"] = other_process
    forget_failures()  # the other process saw nothing fail

    assert client.get("/api/v1/articles/", **auth).status_code == 401
    if resumed_after is not None:
        assert returned_after < cached_seconds, "returned once Redis took the drop"


def database_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    """A ``connection.execute_wrapper``: every query fails as it does while PostgreSQL restarts."""
    raise OperationalError("connection to server failed: Connection refused")


@pytest.mark.outage
def test_a_process_that_connects_to_redis_while_the_database_cannot_say_what_is_owed_does_not_read_it(
    client, workflow, publisher, own_redis, django_capture_on_commit_callbacks
):
    """A host's restart: Redis comes back with what it saved before the withdrawal, and PostgreSQL is still down when
    the process connects to Redis again. Found from outside (gunicorn, both servers restarted): the withdrawn
    revision's page was served while PostgreSQL was down, and still after it came back, for the rest of the old
    pointer's life: nothing was dropped, because the database could not say what to drop."""
    live = read_live(client, workflow, "behind-while-down", "downamol")
    before = own_redis.snapshot()
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    own_redis.stop(keep_data=True)
    own_redis.start(from_snapshot=before)
    del caches["default"]  # a process started since, or its connection closed by the restart

    client.raise_request_exception = False  # the 503 is the answer; the client would re-raise what caused it
    with connection.execute_wrapper(database_down):
        assert client.get(URL.format(live.article.slug)).status_code == 503, "not the old page from Redis"
    forget_failures()  # the database is back, and the time to ask Redis again has come

    assert client.get(URL.format(live.article.slug)).status_code == 410


def test_while_the_database_is_down_what_is_owed_is_said_unknown_in_one_line_a_minute(db, caplog):
    """Found from outside (helper, PostgreSQL stopped behind gunicorn): every request logged a WARNING with a full
    traceback, "Could not read the cache keys owed by committed changes.", flooding the log through the outage and
    hiding anything else in it. An outage is logged as the others are: once a minute, in one line."""
    with (
        caplog.at_level(logging.WARNING, logger="contentsite.invalidation"),
        connection.execute_wrapper(database_down),
    ):
        assert [invalidation.owed_cache_keys() for _ in range(3)] == [None, None, None]
    lines = [record for record in caplog.records if record.name == "contentsite.invalidation"]
    assert len(lines) == 1, [record.getMessage() for record in lines]
    assert not lines[0].exc_info  # one line: no traceback
    assert "Connection refused" in lines[0].getMessage()


@pytest.mark.outage
def test_a_process_that_connects_while_the_database_is_down_reads_a_redis_cleared_since_it_started(
    client, workflow, own_redis
):
    """The other side: Redis did not restart, and what was owed was dropped on it since it started. A process that
    starts (or connects again) while PostgreSQL is down reads it: the cached page is served, as before."""
    live = read_live(client, workflow, "cleared-before-the-outage", "clearamol")
    del caches["default"]  # a process started since: a new connection

    client.raise_request_exception = False
    with connection.execute_wrapper(database_down):
        assert client.get(URL.format(live.article.slug)).status_code == 200


@pytest.mark.outage
def test_a_process_that_saw_redis_hang_for_a_moment_still_reads_it_while_the_database_is_down(
    client, workflow, own_redis, retry_after_passes
):
    """Found in CI (gunicorn with its own PostgreSQL and Redis, tests/test_outage_postgres.py, once in many runs):
    with PostgreSQL stopped, a cached article page answered 503. Cause: one of the workers had seen Redis not answer
    in time once before (a slow moment under load), and a process that saw Redis fail asked the database what is owed
    before reading Redis again (``_asked_again``); with the database down it did not read Redis at all, for the whole
    outage, where a new connection reads a Redis cleared since it started (``_connected``). Two rules for one
    question; the same Redis, not restarted, was read by the other worker and not by this one."""
    live = read_live(client, workflow, "hung-for-a-moment", "hungamol")
    own_redis.hang()
    try:
        assert client.get(URL.format(live.article.slug)).status_code == 200  # from the database
    finally:
        own_redis.resume()
    retry_after_passes()  # the time to ask Redis again has come

    client.raise_request_exception = False
    with connection.execute_wrapper(database_down):
        assert client.get(URL.format(live.article.slug)).status_code == 200, "the cached page, as the other worker"


@pytest.mark.outage
def test_a_process_that_saw_redis_restart_with_older_data_does_not_read_it_while_the_database_is_down(
    client, workflow, publisher, own_redis, retry_after_passes, django_capture_on_commit_callbacks
):
    """The other side of the rule above, for a process that saw the failure (its connection closed by the restart)
    rather than one that connected since: a Redis back with what it saved before a withdrawal is not read while
    PostgreSQL cannot say what is owed."""
    live = read_live(client, workflow, "restarted-while-seen", "seenamol")
    before = own_redis.snapshot()
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    own_redis.stop(keep_data=True)
    own_redis.start(from_snapshot=before)
    client.raise_request_exception = False
    assert client.get(URL.format(live.article.slug)).status_code == 410  # finds its connection closed
    retry_after_passes()  # the time to ask Redis again has come

    with connection.execute_wrapper(database_down):
        assert client.get(URL.format(live.article.slug)).status_code == 503, "not the old page from Redis"


@pytest.mark.outage
def test_a_process_that_connects_soon_after_a_change_leaves_what_readers_cached_since(client, workflow, own_redis):
    """Found in CI (tests/test_outage_postgres.py, twice under load): with PostgreSQL stopped, the demo article's
    cached page answered 503. The demo had been published minutes before; one worker connected to Redis after the
    other had cached the page, and a new connection dropped again every drop taken in the last minutes
    (``TakenInvalidation``), the page's pointer included, though this Redis had taken those drops and not restarted
    since (its run id is the one marked when they were dropped on it). Every new process (a deploy, a worker
    recycled) emptied the cache of the pages changed lately, and with the database down they were 503s."""
    live = read_live(client, workflow, "cached-after-the-change", "changeamol")  # published just now, then cached
    del caches["default"]  # another process connects (a second worker's first request)
    assert client.get("/").status_code == 200  # its first read from Redis, on a new connection

    client.raise_request_exception = False
    with connection.execute_wrapper(database_down):
        assert client.get(URL.format(live.article.slug)).status_code == 200, "the page the other worker cached"


def test_a_change_whose_process_died_before_its_drop_is_dropped_by_the_retry(
    client, workflow, publisher, django_capture_on_commit_callbacks
):
    live = read_live(client, workflow, "died-before-the-drop", "diedamol")
    key = identity_cache_key(live.article.slug, kind="article")
    before = cache.get(key)
    with django_capture_on_commit_callbacks(execute=False):  # committed; the process died before its hook ran
        services.revision_withdraw(revision=live, actor=publisher, reason="Under review.")
    cache.set(key, before)  # a reader in another process put back what it read before the commit

    assert client.get(URL.format(live.article.slug)).status_code == 200, "the old page, until the retry"
    call_command("retry_invalidations")
    assert client.get(URL.format(live.article.slug)).status_code == 410


@pytest.mark.outage
def test_a_key_revoked_while_the_cache_refused_is_refused_once_it_answers_again(
    client, published_article, partner, api_key, own_redis, django_capture_on_commit_callbacks, no_backoff
):
    as_committed()
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    assert client.get("/api/v1/articles/", **auth).status_code == 200  # the key's row is in Redis
    own_redis.refuse_writes("READONLY")
    with django_capture_on_commit_callbacks(execute=True):
        partner_key_revoke(key=PartnerAPIKey.objects.get(partner=partner))
    the_cache_answers_again(own_redis, "READONLY")

    call_command("retry_invalidations")

    assert client.get("/api/v1/articles/", **auth).status_code == 401


def test_a_purge_the_proxy_refused_is_sent_again_by_the_retry(
    workflow, publisher, recording_proxy, settings, django_capture_on_commit_callbacks, no_backoff
):
    settings.PROXY_PURGE_URLS = [recording_proxy.url]
    live = workflow.live(slug="purged-later", medication="purgamol")
    as_committed()
    recording_proxy.status = 503
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    assert PendingInvalidation.objects.count() == 1
    recording_proxy.status = 200
    recording_proxy.requests.clear()

    call_command("retry_invalidations")

    purged = " ".join(header for _, _, header in recording_proxy.requests).split()
    assert f"article-{live.article_id}" in purged
    assert "index" in purged
    assert not PendingInvalidation.objects.exists()


def test_what_the_cache_took_on_commit_leaves_nothing_pending(workflow, publisher, django_capture_on_commit_callbacks):
    live = workflow.live(slug="taken-at-once", medication="takenamol")
    as_committed()
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    assert not PendingInvalidation.objects.exists()


@pytest.mark.outage
def test_the_retry_says_what_is_left_and_fails_while_the_cache_cannot_take_it(
    workflow, publisher, own_redis, django_capture_on_commit_callbacks, no_backoff, caplog
):
    live = workflow.live(slug="still-pending", medication="pendamol")
    as_committed()
    own_redis.refuse_writes("READONLY")
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("left for a retry" in record.getMessage() for record in errors)

    with pytest.raises(CommandError, match=r"^1 pending invalidations left"):
        call_command("retry_invalidations")
    assert PendingInvalidation.objects.count() == 1

    the_cache_answers_again(own_redis, "READONLY")
    call_command("retry_invalidations")
    call_command("retry_invalidations")  # again, as a second machine would: nothing left, nothing fails
    assert not PendingInvalidation.objects.exists()


# --- What operators see ------------------------------------------------------------

ADMIN_LIST = "/admin/contentsite/pendinginvalidation/"


def owed(count: int) -> None:
    PendingInvalidation.objects.bulk_create(
        PendingInvalidation(cache_keys=[f"live:article:owed-{n}"], proxy_keys=[f"article-{n}"]) for n in range(count)
    )


def test_an_administrator_sees_what_is_owed_oldest_first_in_the_same_queries_however_many(client, admin_user_account):
    """A purge the cache or proxy would not take was logged and retried by cron, but nowhere to be seen."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(admin_user_account)
    sizes = {}
    for count in (1, 60):
        PendingInvalidation.objects.all().delete()
        owed(count)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(ADMIN_LIST)
        assert page.status_code == 200
        sizes[count] = len(queries)
    html = page.content.decode()
    assert "article-0" in html and "live:article:owed-0" in html
    assert html.index("article-0<") < html.index("article-1<"), "the oldest first: it has waited longest"
    assert sizes[1] == sizes[60], sizes


def test_nobody_adds_changes_or_deletes_what_is_owed_there(client, admin_user_account, reviewer):
    """Deleting a row would lose a purge readers are owed; ``manage.py retry_invalidations`` takes them."""
    owed(1)
    row = PendingInvalidation.objects.get()
    client.force_login(admin_user_account)
    assert client.get(f"{ADMIN_LIST}{row.pk}/change/").status_code == 200  # shown, read-only
    assert client.post(f"{ADMIN_LIST}{row.pk}/change/", {"cache_keys": "[]", "proxy_keys": "[]"}).status_code == 403
    assert client.post(f"{ADMIN_LIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{ADMIN_LIST}add/").status_code == 403
    assert PendingInvalidation.objects.get().cache_keys == ["live:article:owed-0"]
    client.force_login(reviewer)  # clinicians have no business here
    assert client.get(ADMIN_LIST).status_code == 403


def crash_restart_from_an_earlier_save(server: RedisServer) -> None:
    """Redis dies without saving (killed, out of memory, its host lost) and starts again from its last save, which
    was taken before the drops that it had since taken: it holds again what they dropped."""
    assert server.process is not None
    server.process.kill()
    server.process.wait(timeout=30)
    server.stop(keep_data=True)
    server.start()


@pytest.mark.outage
def test_a_drop_the_cache_took_before_it_crashed_is_not_undone_by_its_last_save(
    client, api, workflow, publisher, own_redis, django_capture_on_commit_callbacks, retry_after_passes
):
    """Found by a partner syncing while Redis was killed and started again (kill -9, then its default RDB file):
    after the restart the API answered the withdrawn revision, or an old one, with its old ETag (304 to the partner's
    copy) for up to LIVE_POINTER_SECONDS. The withdrawal's drop had been taken, so nothing was owed, but Redis had
    lost it with everything else since its last save."""
    live = read_live(client, workflow, "crashed-after-the-drop", "crashamol")
    old = api.get(f"/api/v1/articles/{live.article.slug}/")
    assert old.status_code == 200
    with redis.Redis.from_url(own_redis.url) as own_client:
        own_client.save()  # Redis's periodic save, taken while the old pointer was current
    withdraw(live, publisher, django_capture_on_commit_callbacks)
    assert not PendingInvalidation.objects.exists(), "the cache took the drop"
    crash_restart_from_an_earlier_save(own_redis)
    assert held_in_redis(own_redis, identity_cache_key(live.article.slug, kind="article")), "the old pointer is back"
    assert api.get(f"/api/v1/articles/{live.article.slug}/").status_code == 410, "its connection failed: the database"
    retry_after_passes()  # then it asks Redis again, on a new connection

    assert api.get(f"/api/v1/articles/{live.article.slug}/", HTTP_IF_NONE_MATCH=old["ETag"]).status_code == 410
    assert client.get(URL.format(live.article.slug)).status_code == 410
