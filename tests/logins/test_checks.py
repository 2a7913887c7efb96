"""The log-in throttling settings are checked at start: a bad value stops ``manage.py check``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from tests.test_settings import manage


def errors() -> list[str]:
    from logins.checks import check_login_throttling

    return [message.id for message in check_login_throttling(None)]


def test_the_settings_as_configured_pass():
    assert errors() == []


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("LOGIN_FAILURE_LIMIT", "0", "LOGIN_FAILURE_LIMIT must be between 1 and 100"),
        ("LOGIN_FAILURE_LIMIT", "ten", "LOGIN_FAILURE_LIMIT must be a whole number"),
        ("LOGIN_COOLOFF_MINUTES", "0", "LOGIN_COOLOFF_MINUTES must be between 1 and 1440"),
        ("LOGIN_COOLOFF_MINUTES", "-5", "LOGIN_COOLOFF_MINUTES must be between 1 and 1440"),
        ("LOGIN_LOCKOUT_BY", "user_agent", "LOGIN_LOCKOUT_BY"),
        ("LOGIN_LOCKOUT_BY", "", "LOGIN_LOCKOUT_BY"),
        ("LOGIN_RESET_ON_SUCCESS", "sometimes", "LOGIN_RESET_ON_SUCCESS must be one of"),
        ("TRUSTED_PROXY_COUNT", "-1", "TRUSTED_PROXY_COUNT must be between 0 and 5"),
        ("LOGIN_LOCKOUT_CONTACT", " ", "LOGIN_LOCKOUT_CONTACT"),
    ],
)
def test_a_bad_environment_value_fails_the_check(variable, value, complaint):
    result = manage("check", DJANGO_SETTINGS_MODULE="contentsite.settings.base", **{variable: value})
    assert result.returncode != 0
    assert complaint in result.stderr


def test_good_environment_values_pass_the_check():
    result = manage(
        "check",
        DJANGO_SETTINGS_MODULE="contentsite.settings.base",
        LOGIN_FAILURE_LIMIT="5",
        LOGIN_COOLOFF_MINUTES="60",
        LOGIN_LOCKOUT_BY="username+ip_address,ip_address",
        TRUSTED_PROXY_COUNT="2",
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"AXES_FAILURE_LIMIT": 0}, "logins.E001"),
        ({"AXES_COOLOFF_TIME": timedelta(0)}, "logins.E002"),
        ({"AXES_COOLOFF_TIME": None}, "logins.E002"),
        ({"AXES_LOCKOUT_PARAMETERS": [["username", "user_agent"]]}, "logins.E003"),
        ({"TRUSTED_PROXY_COUNT": 9}, "logins.E004"),
        # In process memory each app server would count its own failures.
        ({"AXES_HANDLER": "axes.handlers.cache.AxesCacheHandler"}, "logins.E005"),
        (
            {
                "AUTHENTICATION_BACKENDS": [
                    "django.contrib.auth.backends.ModelBackend",
                    "axes.backends.AxesStandaloneBackend",
                ]
            },
            "logins.E006",
        ),
        ({"MIDDLEWARE": []}, "logins.E007"),
        ({"LOGIN_LOCKOUT_CONTACT": ""}, "logins.E008"),
    ],
)
def test_each_unsafe_setting_is_an_error(overrides, error):
    with override_settings(**overrides):
        assert error in errors()
