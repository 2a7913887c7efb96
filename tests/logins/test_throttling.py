"""Log-in throttling: repeated failures lock out the user name and the address, for a while."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from tests.logins.conftest import ELSEWHERE, HOME, RIGHT_PASSWORD, fail, log_in, logged_in, move_clock
from tests.pages import page_text

pytestmark = pytest.mark.django_db


def limit() -> int:
    return settings.AXES_FAILURE_LIMIT


def cool_off_minutes() -> float:
    return settings.AXES_COOLOFF_TIME.total_seconds() / 60


def test_twenty_wrong_passwords_then_the_right_one_does_not_log_in(client, editor):
    responses = fail(client, "editor", 20)
    assert responses[0].status_code == 200  # the form again, with its error
    assert responses[-1].status_code == 429

    response = log_in(client, "editor", RIGHT_PASSWORD)
    assert response.status_code == 429
    assert not logged_in(response)
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the log-in page


def test_a_locked_user_name_is_refused_from_every_address(client, editor):
    # A distributed guess at one account: one failure from each of many addresses.
    for n in range(limit()):
        fail(client, "editor", 1, address=f"203.0.113.{n + 1}")
    response = log_in(Client(), "editor", RIGHT_PASSWORD, address=ELSEWHERE)
    assert response.status_code == 429


def test_a_locked_address_is_refused_for_every_user_name(client, editor):
    # Password spraying from one address: one guess at each of many names.
    for n in range(limit()):
        fail(client, f"someone-{n}", 1, address=HOME)
    assert log_in(Client(), "editor", RIGHT_PASSWORD, address=HOME).status_code == 429
    # The same person from another address, and the user name, are not locked.
    assert logged_in(log_in(Client(), "editor", RIGHT_PASSWORD, address=ELSEWHERE))


def test_after_the_cool_off_the_right_password_works(client, editor):
    fail(client, "editor", limit())
    assert log_in(client, "editor", RIGHT_PASSWORD).status_code == 429

    move_clock(cool_off_minutes() - 1)
    assert log_in(client, "editor", RIGHT_PASSWORD).status_code == 429
    move_clock(2)
    assert logged_in(log_in(client, "editor", RIGHT_PASSWORD))


def test_attempts_during_a_lockout_do_not_extend_it(client, editor):
    # The lockout page names a time; knocking again before then must not move it.
    fail(client, "editor", limit())
    move_clock(cool_off_minutes() / 2)
    fail(client, "editor", 3)
    assert log_in(client, "editor", RIGHT_PASSWORD).status_code == 429
    move_clock(cool_off_minutes() / 2 + 1)
    assert logged_in(log_in(client, "editor", RIGHT_PASSWORD))


def test_a_successful_log_in_forgets_that_persons_earlier_failures(client, editor):
    fail(client, "editor", limit() - 1)
    assert logged_in(log_in(client, "editor", RIGHT_PASSWORD))
    client.logout()
    fail(client, "editor", limit() - 1)
    assert logged_in(log_in(client, "editor", RIGHT_PASSWORD))


def test_someone_elses_log_in_does_not_forget_failures_against_a_user(editor, colleague):
    # The colleague logs in from the address the guesses came from: the guesses still count.
    attacker = Client()
    fail(attacker, "editor", limit() - 1, address=HOME)
    assert logged_in(log_in(attacker, "colleague", RIGHT_PASSWORD, address=HOME))
    fail(Client(), "editor", 1, address=ELSEWHERE)
    assert log_in(Client(), "editor", RIGHT_PASSWORD, address="203.0.113.99").status_code == 429


# --- The lockout page -----------------------------------------------------------------------


def locked_page(username: str, address: str) -> object:
    client = Client()
    fail(client, username, limit(), address=address)
    return log_in(client, username, RIGHT_PASSWORD, address=address)


def test_the_lockout_page_says_when_to_try_again_and_whom_to_ask(editor):
    response = locked_page("editor", HOME)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert 0 < int(response["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    text = page_text(html)
    assert "Too many failed log-in attempts" in text
    assert "Try again after" in text
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d', html)
    assert settings.LOGIN_LOCKOUT_CONTACT in text
    # The admin's own look: its header and stylesheet, no log-in form.
    assert "Clinical content administration" in text
    assert "admin/css/base.css" in html
    assert 'name="password"' not in html


def test_the_lockout_page_tells_nothing_about_the_account(editor):
    # Whether the name exists, and the name itself, stay out of the page.
    existing = locked_page("editor", HOME)
    unknown = locked_page("nobody-by-this-name", ELSEWHERE)
    assert existing.status_code == unknown.status_code == 429

    def without_times(response: object) -> str:
        return page_text(re.sub(r"<time\b.*?</time>", "", response.content.decode(), flags=re.S))

    assert without_times(existing) == without_times(unknown)
    assert "editor" not in existing.content.decode()
    assert "nobody-by-this-name" not in unknown.content.decode()


# --- The client's address behind the reverse proxy ------------------------------------------------


def test_a_forwarded_for_header_is_ignored_unless_proxies_are_trusted(client, editor):
    assert settings.TRUSTED_PROXY_COUNT == 0
    for n in range(limit()):
        fail(client, f"someone-{n}", 1, address=HOME)
    # Inventing a new X-Forwarded-For on each try does not give a new address.
    response = log_in(client, "editor", RIGHT_PASSWORD, address=HOME, HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert response.status_code == 429


def test_an_ignored_forwarded_for_header_is_logged(client, editor, caplog):
    log_in(client, "editor", "wrong", address=HOME, HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert "set TRUSTED_PROXY_COUNT" in caplog.text


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_each_client_has_its_own_address(client, editor):
    proxy = "10.0.0.5"
    for n in range(limit()):
        log_in(client, f"someone-{n}", "wrong", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    # Another reader behind the same proxy is not locked out with the first.
    other = log_in(Client(), "editor", RIGHT_PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert logged_in(other)
    # The locked client cannot escape by prepending an address: the proxy's entry is the last one.
    spoofed = log_in(Client(), "editor", RIGHT_PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8, 203.0.113.7")
    assert spoofed.status_code == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.5"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.4", "203.0.113.7"),
        (2, "2001:db8::1, 10.0.0.4", "2001:db8::1"),
        # Fewer entries than trusted proxies, or nonsense: the request did not come the way
        # the proxies send it, so only the connecting address is believed.
        (2, "203.0.113.7", "10.0.0.5"),
        (1, "", "10.0.0.5"),
        (1, "not-an-address", "10.0.0.5"),
        (1, "203.0.113.7:4711", "10.0.0.5"),
    ],
)
def test_the_client_address(proxies, forwarded_for, expected):
    from logins.addresses import client_ip_address

    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded_for)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip_address(request) == expected


# --- What it leaves alone --------------------------------------------------------------------


def test_the_partner_api_is_not_affected_by_a_locked_address(client, editor, api_key):
    for n in range(limit()):
        fail(client, f"someone-{n}", 1, address=HOME)
    response = client.get("/api/v1/articles/", HTTP_AUTHORIZATION=f"Api-Key {api_key}", REMOTE_ADDR=HOME)
    assert response.status_code == 200


def test_a_right_password_below_the_limit_logs_in(client, editor):
    responses = fail(client, "editor", limit() - 1)
    assert {r.status_code for r in responses} == {200}
    assert logged_in(log_in(client, "editor", RIGHT_PASSWORD))
