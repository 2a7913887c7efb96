"""The 503 answered while the database is unreachable or takes no writes: rendered without a query, and only for
outages."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client, RequestFactory

from articles.models import Revision
from contentsite.middleware import database_unavailable, is_database_outage
from contentsite.outages import log_outage
from feedback.models import Feedback


def test_the_reader_page_needs_no_database_and_says_when_to_come_back(settings, django_assert_num_queries, db):
    settings.OUTAGE_RETRY_AFTER_SECONDS = 120
    with django_assert_num_queries(0):
        response = database_unavailable(RequestFactory().get("/search/"), OperationalError("connection refused"))
    assert response.status_code == 503
    assert response["Retry-After"] == "120"
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "<h1>This page is temporarily unavailable</h1>" in page
    assert "try again in 2 minutes" in page
    assert 'lang="en-GB"' in page and 'name="robots" content="noindex"' in page
    assert f'<a href="tel:{settings.TRIAGE_EMERGENCY_NUMBER}">' in page  # a frightened reader can call from it


NOT_RECEIVED = "What you sent has not been received."


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_an_answer_or_feedback_sent_during_an_outage_is_said_not_received_not_lost_silently(method, db):
    """A triage answer or feedback sent while the database is down: the page says it was not received and how to
    send it again (Back keeps what was typed), first in the page; a page asked for (GET, HEAD) does not."""
    request = RequestFactory().generic(method, "/feedback/1/")
    page = database_unavailable(request, OperationalError("connection refused")).content.decode()
    assert NOT_RECEIVED in page
    assert "Wait a minute, then go back and send it again." in page
    assert page.index(NOT_RECEIVED) < page.index("Nothing is wrong with your device")
    for asked in (RequestFactory().get("/search/"), RequestFactory().head("/search/")):
        assert NOT_RECEIVED not in database_unavailable(asked, OperationalError("refused")).content.decode()


def test_partners_get_a_json_error():
    response = database_unavailable(RequestFactory().get("/api/v1/articles/"), OperationalError("gone"))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert (body["status"], body["code"], body["title"]) == (503, "unavailable", "Service Unavailable")
    assert body["instance"] == "/api/v1/articles/"


def test_a_lost_lock_race_is_not_an_outage():
    assert is_database_outage(OperationalError("connection refused"))
    assert not is_database_outage(OperationalError("database is locked"))
    assert not is_database_outage(ValueError("connection refused"))


def test_a_write_refused_as_read_only_is_an_outage_and_other_internal_errors_are_not():
    from django.db import InternalError
    from psycopg import errors

    def wrapped(cause: Exception) -> InternalError:
        error = InternalError(str(cause))
        error.__cause__ = cause  # as Django wraps psycopg's errors
        return error

    assert is_database_outage(wrapped(errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only txn")))
    assert not is_database_outage(wrapped(errors.InFailedSqlTransaction("current transaction is aborted")))
    assert not is_database_outage(InternalError("no cause"))


def test_an_outage_is_logged_once_a_minute_per_process(caplog):
    logger = logging.getLogger("tests.outage")
    assert log_outage(logger, "database", "down") is True
    assert log_outage(logger, "database", "still down") is False
    assert log_outage(logger, "cache", "cache down too") is True
    assert [r.getMessage() for r in caplog.records if r.name == "tests.outage"] == ["down", "cache down too"]


def test_an_outage_met_outside_a_view_is_a_503_and_anything_else_still_a_500(db):
    from contentsite.middleware import server_error

    request = RequestFactory().get("/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        assert server_error(request).status_code == 503
    try:
        raise KeyError("a bug")
    except KeyError:
        assert server_error(request).status_code == 500


# --- PostgreSQL taking no writes -----------------------------------------------------------------


@contextmanager
def database_taking_no_writes() -> Iterator[None]:
    """The test database refuses every write from the next connection on, with what a hot standby or a
    read-only primary answers (SQLSTATE 25006), as after a failover that left the app on the old primary."""
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    connection.close()  # the next query connects again, read-only
    try:
        yield
    finally:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")
            cursor.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        connection.close()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_with_postgresql_taking_no_writes_reads_answer_and_writes_are_503s_that_change_nothing(
    published_article, api_key, author, settings
):
    from tests.feedback.test_feedback import send

    settings.OUTAGE_RETRY_AFTER_SECONDS = 17
    editor = Client(raise_request_exception=False)
    editor.force_login(author)
    reader = Client(raise_request_exception=False)
    article = f"/articles/{published_article.article.slug}/"
    create_draft = f"/admin/articles/revision/{published_article.pk}/transition/create_draft/"
    revisions = Revision.objects.count()
    with database_taking_no_writes():
        assert reader.get(article).status_code == 200
        assert reader.get("/search/?q=amlodipine").status_code == 200
        assert reader.get("/api/v1/articles/", HTTP_AUTHORIZATION=f"Api-Key {api_key}").status_code == 200
        assert editor.get("/admin/").status_code == 200
        writes = {
            "feedback": send(reader, published_article, helpful="yes"),
            "log-in": Client(raise_request_exception=False).post(
                "/admin/login/", {"username": "nobody", "password": "wrong"}
            ),
            "new draft": editor.post(create_draft),
        }
        assert {name: response.status_code for name, response in writes.items()} == dict.fromkeys(writes, 503)
        assert all(response["Retry-After"] == "17" for response in writes.values())
        # Nothing of them was saved, and the pages say so.
        assert all(NOT_RECEIVED in response.content.decode() for response in writes.values())
        # Closed after the refusal (the test client keeps connections between requests, as CONN_MAX_AGE does),
        # so that the next request connects again, to wherever the database's name leads after a failover.
        assert connection.connection is None
    assert Revision.objects.count() == revisions
    assert not Feedback.objects.exists()
    # Writable again (the failover done): the same app servers take writes, without a restart.
    assert send(reader, published_article, helpful="yes").status_code == 303
    assert editor.post(create_draft).status_code in (200, 302)
    assert Revision.objects.count() == revisions + 1


MAYBE_SAVED = "What you sent may have been saved before the failure."


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_form_whose_commit_went_unanswered_is_said_maybe_saved_not_lost():
    """The connection is lost as the COMMIT is sent (the server killed or restarting): the server may have
    committed, and nobody can know. The page must not say "not received, send it again"."""
    import psycopg

    from contentsite.middleware import WritesSeen
    from contentsite.models import PendingInvalidation

    request = RequestFactory().post("/feedback/1/")
    request.writes_seen = writes = WritesSeen()
    dsn = {key: connection.settings_dict[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
    other = psycopg.connect(
        dbname=dsn["NAME"], user=dsn["USER"], password=dsn["PASSWORD"], host=dsn["HOST"], port=dsn["PORT"]
    )

    def write_then_lose_the_connection() -> None:
        with connection.execute_wrapper(writes), transaction.atomic():
            PendingInvalidation.objects.create(cache_keys=["a-key"], proxy_keys=[])
            other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])

    with other, pytest.raises(OperationalError) as lost:
        write_then_lose_the_connection()
    assert lost.value.during_commit
    page = database_unavailable(request, lost.value).content.decode()
    assert MAYBE_SAVED in page
    assert NOT_RECEIVED not in page
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_form_whose_writes_all_committed_is_said_maybe_saved_and_one_with_none_not_received():
    from contentsite.middleware import WritesSeen
    from contentsite.models import PendingInvalidation

    saved, unsaved = RequestFactory().post("/feedback/1/"), RequestFactory().post("/feedback/1/")
    saved.writes_seen, unsaved.writes_seen = WritesSeen(), WritesSeen()
    with connection.execute_wrapper(saved.writes_seen), transaction.atomic():
        PendingInvalidation.objects.create(cache_keys=["a-key"], proxy_keys=[])
    with connection.execute_wrapper(unsaved.writes_seen), transaction.atomic():
        assert not PendingInvalidation.objects.filter(cache_keys=["another"]).exists()  # a read commits nothing
    gone = OperationalError("server closed the connection unexpectedly")
    assert MAYBE_SAVED in database_unavailable(saved, gone).content.decode()
    page = database_unavailable(unsaved, gone).content.decode()
    assert NOT_RECEIVED in page
    assert MAYBE_SAVED not in page
