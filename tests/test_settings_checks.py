"""Every setting read from the environment is checked at start: a bad value fails ``manage.py check --deploy``.

One case per setting (``contentsite.checks``, ``articles.checks``, ``partners.checks``,
``triage.checks``; the log-in settings are ``logins.checks``' and tested with it),
then the same through ``manage.py`` and the WSGI entry point as an operator meets them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.checks import run_checks

from tests.test_settings import PRODUCTION_ENV, ROOT, manage

# (setting, bad value, the check's id)
BAD_VALUES = [
    ("PARTNER_API_RATE", "600/mango", "partners.E001"),
    ("PARTNER_API_RATE", "lots", "partners.E001"),
    ("PARTNER_API_RATE", "0/minute", "partners.E001"),
    ("PARTNER_API_FAILED_AUTH_RATE", "20/fortnight", "partners.E002"),
    ("PARTNER_API_FAILED_AUTH_RATE", "0/minute", "partners.E002"),
    ("FEEDBACK_RATE", "10/fortnight", "feedback.E001"),
    ("FEEDBACK_RATE", "0/hour", "feedback.E001"),
    ("TRIAGE_EMERGENCY_NUMBER", "", "triage.E001"),
    ("TRIAGE_EMERGENCY_NUMBER", "999 or 112", "triage.E001"),
    ("TRIAGE_EMERGENCY_NUMBER", "1234567", "triage.E001"),
    ("TRIAGE_URGENT_ADVICE_NUMBER", "", "triage.E003"),
    ("TRIAGE_URGENT_ADVICE_NUMBER", "call 111", "triage.E003"),
    ("TRIAGE_URGENT_ADVICE_NUMBER", "1", "triage.E003"),
    ("TRIAGE_URGENT_ADVICE_NUMBER", "+44 1234 567 890 1234", "triage.E003"),
    ("TRIAGE_URGENT_ADVICE_NAME", " ", "triage.E004"),
    ("TRIAGE_URGENT_ADVICE_NAME", "NHS\n111", "triage.E004"),
    ("TRIAGE_URGENT_ADVICE_NAME", "x" * 41, "triage.E004"),
    ("TRIAGE_MAX_ANSWER_COMBINATIONS", 0, "triage.E002"),
    ("TRIAGE_MAX_ANSWER_COMBINATIONS", 2**40, "triage.E002"),
    ("ARTICLE_IMPORT_MAX_BYTES", 0, "articles.E102"),
    ("ARTICLE_IMPORT_MAX_BYTES", 10**12, "articles.E102"),
    # Over what the shipped proxy reads of a request's body (``contentsite.proxy.MAX_REQUEST_BODY_BYTES``): every
    # upload that large would be refused by Varnish before the app saw it.
    ("ARTICLE_IMPORT_MAX_BYTES", 3 * 1024 * 1024, "articles.E102"),
    ("PARTNER_CONTENT_ATTRIBUTION", " ", "articles.E103"),
    ("PARTNER_CONTENT_LICENCE", "", "articles.E103"),
    ("PARTNER_CONTENT_LICENCE_URL", "licence.html", "articles.E104"),
    ("PARTNER_CONTENT_LICENCE_URL", "javascript:alert(1)", "articles.E104"),
    ("ARTICLE_PAGE_CACHE_SECONDS", 0, "articles.E101"),
    ("LIVE_POINTER_SECONDS", -1, "articles.E101"),
    ("PUBLIC_BASE_URL", "medsafety.example", "contentsite.E006"),
    ("PUBLIC_BASE_URL", "https://medsafety.example/library", "contentsite.E006"),
    ("PUBLIC_BASE_URL", "ftp://medsafety.example", "contentsite.E006"),
    ("CSRF_TRUSTED_ORIGINS", ["https://ok.example", "https://x.example/path"], "contentsite.E008"),
    ("DATABASE_LOCK_TIMEOUT_MS", 50, "contentsite.E010"),
    ("DATABASE_LOCK_TIMEOUT_MS", 10**9, "contentsite.E010"),
    ("REDIS_URL", "127.0.0.1:6379", "contentsite.E011"),
    ("REDIS_URL", "redis://127.0.0.1:99999/0", "contentsite.E011"),
    ("SITE_NAME", "", "contentsite.E013"),
    ("SECURE_HSTS_SECONDS", -1, "contentsite.E014"),
    ("PROXY_PURGE_URLS", ["varnish:6081"], "contentsite.E001"),
    ("PROXY_PURGE_TIMEOUT_SECONDS", 0, "contentsite.E002"),
    ("PROXY_PAGE_MAX_AGE", -1, "contentsite.E003"),
    ("PROXY_STALE_WHILE_REVALIDATE", -1, "contentsite.E004"),
    ("PROXY_STALE_IF_ERROR", -1, "contentsite.E005"),
    ("EMAIL_HOST", "", "contentsite.E030"),
    ("EMAIL_HOST", "smtp://mail.example.org", "contentsite.E030"),
    ("EMAIL_PORT", 0, "contentsite.E031"),
    ("EMAIL_PORT", 70000, "contentsite.E031"),
    ("EMAIL_HOST_USER", "mailer", "contentsite.E032"),
    ("EMAIL_USE_TLS", "yes", "contentsite.E033"),
    ("DEFAULT_FROM_EMAIL", "clinical content", "contentsite.E034"),
    ("DEFAULT_FROM_EMAIL", "Clinical content <nobody>", "contentsite.E034"),
    ("EMAIL_TIMEOUT", 0, "contentsite.E035"),
    ("EMAIL_TIMEOUT", 3600, "contentsite.E035"),
    ("PARTNER_API_MIDDLEWARE", "django.middleware.common.CommonMiddleware", "contentsite.E040"),
    ("PARTNER_API_MIDDLEWARE", ["contentsite.middleware.LockConflictMiddleware"], "contentsite.E040"),
]


def check_ids(*, deploy: bool = False) -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=deploy) if message.is_serious()}


def test_the_test_settings_pass() -> None:
    assert check_ids() == set()


@pytest.mark.parametrize(("name", "value", "check_id"), BAD_VALUES)
def test_a_bad_value_fails_the_checks(settings: Any, name: str, value: Any, check_id: str) -> None:
    setattr(settings, name, value)
    assert check_id in check_ids(), (name, value)


def test_a_bad_connection_age_fails_the_checks() -> None:
    # Through manage.py: overriding DATABASES in a running test would touch its live connection.
    result = manage("check", DJANGO_SETTINGS_MODULE="contentsite.settings.base", CONN_MAX_AGE="-5")
    assert result.returncode != 0
    assert "contentsite.E009" in result.stderr


def test_a_bad_cache_key_prefix_fails_the_checks(settings: Any) -> None:
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": "two words"}}
    assert "contentsite.E012" in check_ids()


@pytest.mark.parametrize("number", ["999", "112", "911", "000"])
def test_emergency_numbers_pass(settings: Any, number: str) -> None:
    settings.TRIAGE_EMERGENCY_NUMBER = number
    assert check_ids() == set()


@pytest.mark.parametrize("number", ["111", "116117", "+44 300 123 4567", "0300 123 4567"])
def test_urgent_advice_numbers_pass(settings: Any, number: str) -> None:
    settings.TRIAGE_URGENT_ADVICE_NUMBER = number
    assert check_ids() == set()


def test_check_deploy_fails_on_a_bad_urgent_advice_number() -> None:
    result = manage("check", "--deploy", **{**PRODUCTION_ENV, "TRIAGE_URGENT_ADVICE_NUMBER": "ring 111"})
    assert result.returncode != 0
    assert "triage.E003" in result.stderr


def test_serving_the_public_needs_redis_https_and_no_demo_accounts(settings: Any) -> None:
    """Deployment checks only; PostgreSQL (contentsite.E102) is tested through manage.py below."""
    settings.REDIS_URL = ""
    settings.PUBLIC_BASE_URL = "http://medsafety.example"
    settings.DEMO_ACCOUNTS_ENABLED = True
    wanted = {"contentsite.E101", "contentsite.E103", "contentsite.E104"}
    assert wanted <= check_ids(deploy=True)
    assert not wanted & check_ids()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRIAGE_EMERGENCY_NUMBER", "112"),
        ("TRIAGE_URGENT_ADVICE_NUMBER", "116117"),
        ("TRIAGE_URGENT_ADVICE_NAME", "the out-of-hours line"),
        ("OUTAGE_RETRY_AFTER_SECONDS", 60),
    ],
)
def test_the_proxys_outage_page_must_say_what_the_settings_say(settings: Any, name: str, value: Any) -> None:
    """The shipped Varnish configuration answers for the site while every app server is down, with the numbers to
    call written into it (deploy/varnish/default.vcl): a number changed in the settings alone would have frightened
    readers told the wrong one, by the page meant for the worst moment."""
    assert "contentsite.E105" not in check_ids(deploy=True)
    setattr(settings, name, value)
    assert "contentsite.E105" in check_ids(deploy=True)
    assert "contentsite.E105" not in check_ids()


# --- As an operator meets them: manage.py check --deploy, and the app server's start ---------------


def test_check_deploy_fails_on_a_bad_rate() -> None:
    result = manage("check", "--deploy", **{**PRODUCTION_ENV, "PARTNER_API_RATE": "600/mango"})
    assert result.returncode != 0
    assert "partners.E001" in result.stderr


def test_check_deploy_fails_on_a_bad_emergency_number() -> None:
    result = manage("check", "--deploy", **{**PRODUCTION_ENV, "TRIAGE_EMERGENCY_NUMBER": "call 999"})
    assert result.returncode != 0
    assert "triage.E001" in result.stderr


def test_a_bad_log_level_is_refused_clearly() -> None:
    """Logging is configured before the checks run, so the settings refuse it themselves."""
    result = manage("check", DJANGO_SETTINGS_MODULE="contentsite.settings.base", LOG_LEVEL="LOUD")
    assert result.returncode != 0
    assert "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; got 'LOUD'" in result.stderr
    assert manage("check", DJANGO_SETTINGS_MODULE="contentsite.settings.base", LOG_LEVEL="warning").returncode == 0


def test_check_deploy_fails_without_redis_in_production() -> None:
    env = {**PRODUCTION_ENV, "REDIS_URL": ""}
    result = manage("check", "--deploy", **env)
    assert result.returncode != 0
    assert "contentsite.E101" in result.stderr
    # Not a deployment, not refused: a developer's ``manage.py check`` without Redis passes.
    assert manage("check", **env).returncode == 0


def test_check_deploy_fails_on_sqlite_in_production() -> None:
    result = manage("check", "--deploy", **{**PRODUCTION_ENV, "DATABASE_URL": f"sqlite:///{ROOT / 'x.sqlite3'}"})
    assert result.returncode != 0
    assert "contentsite.E102" in result.stderr


def wsgi_start(code: str = "import contentsite.wsgi", **env: str) -> subprocess.CompletedProcess[str]:
    """Import the WSGI entry point as gunicorn does (or run ``code``), in a fresh process."""
    unset = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "LOG_LEVEL"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_app_server_says_which_settings_it_runs_with() -> None:
    result = wsgi_start(**PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "Starting with settings contentsite.settings.production (DEBUG off)" in result.stderr


@pytest.mark.parametrize("entry", ["wsgi", "asgi"])
def test_the_app_servers_read_requests_with_the_projects_handler(entry: str) -> None:
    """``contentsite.handlers``: a request's charset is used only when it is a character set (test_request_charset)."""
    code = f"import contentsite.{entry} as e; print(type(e.application).__module__, type(e.application).__name__)"
    result = wsgi_start(code, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["contentsite.handlers", f"{entry.upper()}Handler"]


def test_the_app_server_refuses_to_start_on_a_bad_setting() -> None:
    """gunicorn never runs ``manage.py check``: a bad rate used to start and then fail every API request."""
    result = wsgi_start(**{**PRODUCTION_ENV, "PARTNER_API_RATE": "600/mango"})
    assert result.returncode != 0
    assert "partners.E001" in result.stderr


def test_a_mail_password_is_never_sent_in_the_clear(settings: Any) -> None:
    settings.EMAIL_HOST, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "smtp.example.org", "u", "p"
    settings.EMAIL_USE_TLS = False
    assert "contentsite.E033" in check_ids()
    settings.EMAIL_USE_TLS = True
    assert "contentsite.E033" not in check_ids()


def test_check_deploy_fails_on_a_bad_sender_address() -> None:
    result = manage("check", "--deploy", **{**PRODUCTION_ENV, "DEFAULT_FROM_EMAIL": "no reply"})
    assert result.returncode != 0 and "contentsite.E034" in result.stderr
