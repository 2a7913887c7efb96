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

pytestmark = pytest.mark.outage

ROOT = Path(__file__).resolve().parent.parent
# Every command the README and deploy/README.md tell operators to run from cron.
CRON_COMMANDS = ["retry_invalidations", "publish_scheduled", "notify_overdue_reviews", "flush_outcome_counts"]


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
