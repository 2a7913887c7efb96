"""Lockouts in the admin: seen and released by superusers and by those given the permission."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.test import Client

from tests.conftest import make_user
from tests.logins.conftest import ELSEWHERE, HOME, RIGHT_PASSWORD, fail, log_in, logged_in
from tests.pages import page_text

pytestmark = pytest.mark.django_db

ATTEMPTS = "/admin/axes/accessattempt/"


def lock_out(username: str, address: str = HOME) -> None:
    fail(Client(), username, settings.AXES_FAILURE_LIMIT, address=address)


def release_all(client: Client) -> object:
    from axes.models import AccessAttempt

    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    return client.post(ATTEMPTS, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})


@pytest.fixture
def access_managers(db):
    """A group given only the permission to see and release lockouts."""
    group = Group.objects.create(name="Access managers")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="axes", codename__in=["view_accessattempt", "delete_accessattempt"]
        )
    )
    return group


def test_a_superuser_sees_who_is_locked_out_and_until_when(client, admin_user_account, editor):
    lock_out("editor")
    client.force_login(admin_user_account)
    response = client.get(ATTEMPTS)
    assert response.status_code == 200
    text = page_text(response.content.decode())
    assert "editor" in text
    assert HOME in text
    assert "Locked out until" in text
    # The admin index lists the lockouts too.
    assert "Access attempts" in page_text(client.get("/admin/").content.decode())


def test_a_user_locked_out_from_many_addresses_shows_as_locked(client, admin_user_account, editor):
    # No single row reaches the limit; together they do, and the admin says so on each.
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail(Client(), "editor", 1, address=f"203.0.113.{n + 1}")
    client.force_login(admin_user_account)
    text = page_text(client.get(ATTEMPTS).content.decode())
    assert text.count("Locked out until") == settings.AXES_FAILURE_LIMIT
    assert "user name" in text


def test_a_superuser_releases_a_lockout_and_the_right_password_works(client, admin_user_account, editor):
    lock_out("editor")
    assert log_in(Client(), "editor", RIGHT_PASSWORD).status_code == 429
    client.force_login(admin_user_account)
    assert release_all(client).status_code == 302
    assert logged_in(log_in(Client(), "editor", RIGHT_PASSWORD))


def test_a_permitted_group_sees_and_releases_lockouts(client, access_managers, editor):
    manager = make_user("access-manager")
    manager.groups.add(access_managers)
    lock_out("editor", address=ELSEWHERE)
    client.force_login(manager)
    assert "Locked out until" in page_text(client.get(ATTEMPTS).content.decode())
    assert release_all(client).status_code == 302
    assert logged_in(log_in(Client(), "editor", RIGHT_PASSWORD, address=ELSEWHERE))


@pytest.mark.parametrize("role", ["author", "reviewer", "publisher"])
def test_the_editorial_roles_neither_see_nor_release_lockouts(request, client, role, editor):
    lock_out("editor")
    client.force_login(request.getfixturevalue(role))
    assert client.get(ATTEMPTS).status_code == 403
    assert release_all(client).status_code == 403
    assert "Access attempts" not in page_text(client.get("/admin/").content.decode())
    assert log_in(Client(), "editor", RIGHT_PASSWORD).status_code == 429


def test_seeing_lockouts_is_not_releasing_them(client, editor):
    watchers = Group.objects.create(name="Watchers")
    watchers.permissions.add(Permission.objects.get(content_type__app_label="axes", codename="view_accessattempt"))
    watcher = make_user("watcher")
    watcher.groups.add(watchers)
    lock_out("editor")
    client.force_login(watcher)
    text = page_text(client.get(ATTEMPTS).content.decode())
    assert "Locked out until" in text
    assert "Delete selected" not in text
    assert "Clean up expired attempts" not in text
    release_all(client)
    assert log_in(Client(), "editor", RIGHT_PASSWORD).status_code == 429
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.count() == 1


def test_a_lockout_stays_on_record_after_it_has_ended(client, admin_user_account, editor):
    from tests.logins.conftest import move_clock

    lock_out("editor")
    move_clock(settings.AXES_COOLOFF_TIME.total_seconds() / 60 + 1)
    assert logged_in(log_in(Client(), "editor", RIGHT_PASSWORD))
    client.force_login(admin_user_account)
    assert "Locked out until" not in page_text(client.get(ATTEMPTS).content.decode())
    failures = page_text(client.get("/admin/axes/accessfailurelog/?locked_out__exact=1").content.decode())
    assert "editor" in failures
    assert "1 access failure" in failures


def test_every_action_offered_on_lockouts_runs_without_a_500(client, admin_user_account, editor):
    from axes.models import AccessAttempt

    lock_out(editor.username)
    client.force_login(admin_user_account)
    page = client.get(ATTEMPTS)
    actions = [value for value, _ in page.context["action_form"].fields["action"].choices if value]
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    for action in actions:
        response = client.post(ATTEMPTS, {"action": action, "_selected_action": ids})
        assert response.status_code < 500, action
