"""Settings come from the environment, and production refuses unsafe configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "contentsite.settings.production",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-for-the-check-0123456789",
    "ALLOWED_HOSTS": "medsafety.example",
    # Serving the public needs both (contentsite.checks.check_deployment); neither is connected to by a check.
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/contentsite",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    unset = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("hosts", ["127.0.0.1,localhost", "[::1]", ".medsafety.example"])
def test_production_starts_when_its_first_host_makes_no_sender_address(hosts):
    """The default sender is no-reply@<first host>; an address or a wildcard there is no email domain."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION_ENV, "ALLOWED_HOSTS": hosts})
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **{**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_base_settings_need_a_secret_key_when_debug_is_off():
    result = manage("check", DJANGO_SETTINGS_MODULE="contentsite.settings.base", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_malformed_boolean_is_refused():
    result = manage("check", DJANGO_SETTINGS_MODULE="contentsite.settings.base", DEBUG="maybe")
    assert "DEBUG must be one of" in result.stderr


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_ci_asked_for():
    # CI sets EXPECT_DATABASE_VENDOR so that a PostgreSQL run cannot silently fall back to SQLite.
    expected = os.environ.get("EXPECT_DATABASE_VENDOR")
    if expected is None and os.environ.get("CI"):
        pytest.fail("CI must say which database this run is for (EXPECT_DATABASE_VENDOR).")
    assert connection.vendor == (expected or connection.vendor)


def setting(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_counts_the_load_balancer_it_runs_behind():
    """Else every member of staff shares the balancer's address, and ten wrong passwords lock them all out."""
    assert setting("TRUSTED_PROXY_COUNT", **PRODUCTION_ENV) == "1"
    assert setting("TRUSTED_PROXY_COUNT", **{**PRODUCTION_ENV, "TRUSTED_PROXY_COUNT": "2"}) == "2"


def test_the_lock_timeout_is_added_to_the_database_options_in_the_url():
    url = "postgres://postgres@127.0.0.1:5432/x?options=-c%20search_path%3Dapp"
    options = setting('DATABASES["default"]["OPTIONS"]', DATABASE_URL=url, DATABASE_LOCK_TIMEOUT_MS="500")
    assert "search_path=app" in options and "lock_timeout=500" in options


def test_postgresql_gets_a_tcp_user_timeout_and_keepalives_unless_the_url_names_its_own():
    url = "postgres://postgres@127.0.0.1:5432/x"
    options = setting('DATABASES["default"]["OPTIONS"]', DATABASE_URL=url)
    for expected in ("'tcp_user_timeout': 10000", "'keepalives': 1", "'keepalives_idle': 5", "'keepalives_count': 3"):
        assert expected in options
    options = setting('DATABASES["default"]["OPTIONS"]', DATABASE_URL=url, DATABASE_TCP_USER_TIMEOUT_MS="4000")
    assert "'tcp_user_timeout': 4000" in options
    options = setting('DATABASES["default"]["OPTIONS"]', DATABASE_URL=f"{url}?tcp_user_timeout=2500")
    assert "'tcp_user_timeout': '2500'" in options or "'tcp_user_timeout': 2500" in options


def test_postgresql_gets_a_connect_timeout_unless_the_url_names_its_own():
    url = "postgres://postgres@127.0.0.1:5432/x"
    assert "'connect_timeout': 5" in setting('DATABASES["default"]["OPTIONS"]', DATABASE_URL=url)
    options = setting('DATABASES["default"]["OPTIONS"]', DATABASE_URL=url, DATABASE_CONNECT_TIMEOUT_SECONDS="9")
    assert "'connect_timeout': 9" in options
    options = setting('DATABASES["default"]["OPTIONS"]', DATABASE_URL=f"{url}?connect_timeout=3")
    assert "'connect_timeout': '3'" in options or "'connect_timeout': 3" in options
