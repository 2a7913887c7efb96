"""PostgreSQL down: the commands cron runs every minute say so in one line and a code of their own, no traceback.

Cron mails whatever a command prints on stderr; with a traceback per command per minute per app
server, the one fact that matters (the database is down, the next run tries again) is buried.
Realistic on purpose: a PostgreSQL and a Redis of the test's own, the production settings, each
command in a process of its own as cron starts it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.servers import server_environment
from contentsite.management.cron import DATABASE_UNAVAILABLE_EXIT_CODE
from tests.outages import PostgresServer, RedisServer

pytestmark = [pytest.mark.outage, pytest.mark.own_servers]

ROOT = Path(__file__).resolve().parent.parent
# Every command the README and deploy/README.md tell operators to run from cron.
CRON_COMMANDS = [
    "retry_invalidations",
    "publish_scheduled",
    "notify_overdue_reviews",
    "flush_outcome_counts",
    "store_article_pages",
]


def manage(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PostgresServer, dict[str, str]]]:
    database = PostgresServer().start()
    redis = RedisServer().start()
    try:
        environment = server_environment(
            database_url=database.url,
            redis_url=redis.url,
            cache_prefix="outage-cron",
            bytes_dir=tmp_path_factory.mktemp("outage-cron"),
        )
        environment.pop("DEBUG", None)
        environment["DJANGO_SETTINGS_MODULE"] = "contentsite.settings.production"
        environment["DATABASE_CONNECT_TIMEOUT_SECONDS"] = "2"
        migrated = manage(environment, "migrate", "--noinput", "-v0")
        assert migrated.returncode == 0, migrated.stderr
        yield database, environment
    finally:
        redis.stop()
        database.remove()


@pytest.mark.parametrize("command", CRON_COMMANDS)
def test_with_postgresql_down_a_cron_command_says_so_in_one_line_and_exits_with_its_own_code(servers, command):
    database, environment = servers
    assert manage(environment, command).returncode == 0
    database.stop()
    try:
        finished = manage(environment, command)
    finally:
        database.start()
    assert finished.returncode == DATABASE_UNAVAILABLE_EXIT_CODE, finished.stderr
    assert "Traceback" not in finished.stderr
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr
    assert "database is unavailable" in lines[0]
    assert "next run" in lines[0]
    # Back up, the same command works again with nothing left over from the failed run.
    assert manage(environment, command).returncode == 0


def waiting_for_a_lock(url: str) -> bool:
    """Whether a session waits for a row lock (asked outside the holder's transaction, whose view of
    ``pg_stat_activity`` stays as it first read it)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as probe:
        return probe.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()[0] > 0


def test_publications_recorded_before_postgresql_went_are_reported_not_said_undone(servers):
    """Two scheduled publications due; the run records the first (its own transaction, committed), then waits on
    the second's article (held by another step) while PostgreSQL stops. Found from outside (two runs at once
    across a restart): the run that had recorded two publications printed none of them and said "nothing was
    done", so cron's mail told the operator no article had gone live when two had."""
    import datetime
    import json
    import time

    import psycopg

    database, environment = servers
    # The module's PostgreSQL and Redis (``servers``), migrated: the content loaded here is this test's own. The
    # publication time is set once the live articles are made, so 15 s need only cover the two scheduled steps (about
    # a second each on a busy machine); the test then sleeps until it has passed.
    loading = subprocess.run(
        [sys.executable, "-m", "deploy.drill_content", "load", "--articles=2", "--scheduled=2", "--publish-in=15"],
        env={**environment, "DJANGO_SETTINGS_MODULE": "contentsite.settings.base"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    content = json.loads(loading.stdout.strip().splitlines()[-1])
    first_slug, second_slug = content["scheduled_slugs"]
    due = datetime.datetime.fromisoformat(content["publish_at"])
    time.sleep(max(0.0, (due - datetime.datetime.now(datetime.UTC)).total_seconds()) + 1)
    # The run waits on the held article until PostgreSQL goes.
    environment = {**environment, "DATABASE_LOCK_TIMEOUT_MS": "300000"}
    holder = psycopg.connect(database.url)  # another step on the second article, in its transaction
    try:
        holder.execute("SELECT id FROM articles_article WHERE slug = %s FOR UPDATE", [second_slug])
        running = subprocess.Popen(
            [sys.executable, "manage.py", "publish_scheduled"],
            env=environment,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 240
        while not waiting_for_a_lock(database.url):
            assert running.poll() is None, running.communicate()
            assert time.monotonic() < deadline, "the run never reached the held article"
            time.sleep(0.1)
        database.stop()
    finally:
        holder.close()  # never committed: PostgreSQL is gone
    out, err = running.communicate(timeout=120)
    database.start()
    assert running.returncode == DATABASE_UNAVAILABLE_EXIT_CODE, err
    with psycopg.connect(database.url) as connection:
        published = connection.execute(
            "SELECT a.slug, r.number FROM articles_revision r JOIN articles_article a ON a.id = r.article_id"
            " WHERE r.state = 'published' AND r.publish_at IS NOT NULL"
        ).fetchall()
    assert [slug for slug, _ in published] == [first_slug]  # recorded, committed, before PostgreSQL went
    assert f"Published {first_slug} revision {published[0][1]} (scheduled)." in out, (out, err)
    assert "nothing was done" not in err
    assert "next run" in err
