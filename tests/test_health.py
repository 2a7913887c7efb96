"""Health probes: /healthz says the process answers, /readyz that it can serve (database, cache, migrations)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import ConnectionHandler

from contentsite import health
from contentsite.logs import RepeatedWarningFilter
from deploy.servers import free_port


def test_healthz_answers_without_database_or_cache(client, settings):
    # No database access is allowed in this test (pytest-django refuses it), and the cache is down.
    settings.CACHES = {
        "default": {"BACKEND": "contentsite.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response


def test_probes_come_before_allowed_hosts_and_the_https_redirect(client, settings, db):
    # A load balancer probes the app server's own address over plain HTTP.
    settings.ALLOWED_HOSTS = ["medsafety.example"]
    settings.SECURE_SSL_REDIRECT = True
    for path in ("/healthz", "/readyz", "/healthz/"):
        assert client.get(path, HTTP_HOST="10.0.0.7:8000").status_code == 200, path
    assert client.get("/", HTTP_HOST="10.0.0.7:8000").status_code == 400  # everything else is still checked


def test_probes_only_answer_get_and_head(client, db):
    assert client.head("/readyz").status_code == 200
    for method in ("post", "put", "delete"):
        response = getattr(client, method)("/healthz")
        assert response.status_code == 405, method
        assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_readyz_is_ok_when_database_cache_and_migrations_are(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "migrations": "ok"}}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_names_the_cache_when_redis_is_down(client, settings, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "contentsite.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert body["checks"] == {"database": "ok", "cache": "unavailable", "migrations": "ok"}
    assert response["Retry-After"] == str(health.RETRY_AFTER_SECONDS)
    assert response["Cache-Control"] == "no-store"
    assert "Connection" not in response.content.decode()  # the error goes to the log, not to the caller
    assert any("cache unavailable" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_readyz_names_migrations_not_yet_applied(client):
    recorder = MigrationRecorder(connection)
    latest = max(name for app, name in recorder.applied_migrations() if app == "articles")
    recorder.record_unapplied("articles", latest)  # as if this code were newer than its database
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["migrations"]
    assert response.json()["checks"]["migrations"] == "pending"
    assert health.pending_migrations() == [f"articles.{latest}"]


@pytest.fixture
def unreachable_database(tmp_path: Any) -> dict[str, Any]:
    """Settings of a database of the same vendor that cannot be reached."""
    if connection.vendor == "postgresql":
        return {
            **connection.settings_dict,
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "OPTIONS": {"connect_timeout": 2},
        }
    return {**connection.settings_dict, "NAME": str(tmp_path / "no-such-directory" / "db.sqlite3")}


@pytest.mark.django_db
def test_readyz_names_the_database_when_it_is_unreachable(client, unreachable_database, monkeypatch, caplog):
    monkeypatch.setattr(health, "connections", ConnectionHandler({"default": unreachable_database}))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "failing": ["database"],
        "checks": {"database": "unavailable", "cache": "ok", "migrations": "not checked"},
    }
    failures = [record for record in caplog.records if "database" in record.getMessage()]
    assert failures and issubclass(failures[0].exc_info[0], OperationalError)


@pytest.mark.django_db
def test_the_migration_check_reads_only(django_assert_max_num_queries):
    with django_assert_max_num_queries(5) as queries:
        assert health.check_migrations()
    assert not [q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]


def test_a_failing_part_is_logged_at_most_once_a_minute(client, settings, db):
    settings.CACHES = {
        "default": {"BACKEND": "contentsite.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(RepeatedWarningFilter())
    logging.getLogger("contentsite.health").addHandler(handler)
    try:
        for _ in range(20):
            assert client.get("/readyz").status_code == 503
    finally:
        logging.getLogger("contentsite.health").removeHandler(handler)
    assert len([r for r in records if "cache unavailable" in r.getMessage()]) == 1


@pytest.mark.django_db
def test_query_budgets_of_the_probes(client, django_assert_num_queries, django_assert_max_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200
    with django_assert_max_num_queries(6):  # SELECT 1 and the read of the applied migrations
        assert client.get("/readyz").status_code == 200
