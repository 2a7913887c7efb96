"""The 503 answered while the database is unreachable: rendered without a query, and only for outages."""

from __future__ import annotations

import json
import logging

from django.db import OperationalError
from django.test import RequestFactory

from contentsite.middleware import database_unavailable, is_database_outage
from contentsite.outages import log_outage


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
