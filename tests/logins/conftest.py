"""Log-in attempts the way a browser makes them: a POST to the admin's log-in form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import Client

LOGIN_URL = "/admin/login/?next=/admin/"
RIGHT_PASSWORD = "the-right-password-8c2d"
# Documentation addresses (RFC 5737): nobody's real address.
HOME = "192.0.2.10"
ELSEWHERE = "198.51.100.20"


def log_in(client: Client, username: str, password: str, address: str = HOME, **headers: str) -> Any:
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def logged_in(response: Any) -> bool:
    """The admin sends a successful log-in on to ``next``; anything else is a refusal."""
    return response.status_code == 302 and response["Location"] == "/admin/"


def fail(client: Client, username: str, times: int, address: str = HOME) -> list[Any]:
    return [log_in(client, username, f"wrong-{n}", address) for n in range(times)]


def move_clock(minutes: float) -> None:
    """Make every recorded failure ``minutes`` older, as if that much time had passed."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


@pytest.fixture
def editor(db: Any) -> Any:
    return get_user_model().objects.create_user("editor", "editor@example.org", RIGHT_PASSWORD, is_staff=True)


@pytest.fixture
def colleague(db: Any) -> Any:
    return get_user_model().objects.create_user("colleague", "colleague@example.org", RIGHT_PASSWORD, is_staff=True)
