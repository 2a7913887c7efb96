"""System checks for the partner settings: a bad rate fails ``manage.py check`` instead of every API request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ValidationError

from .models import rate_validator


@register()
def check_partner_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """``PARTNER_API_RATE`` and ``PARTNER_API_FAILED_AUTH_RATE`` read as a partner's own limit does
    (``rate_validator``): ``N/second|minute|hour|day``."""
    errors: list[CheckMessage] = []
    for name, example, check_id in (
        ("PARTNER_API_RATE", "600/minute or 10000/day", "partners.E001"),
        ("PARTNER_API_FAILED_AUTH_RATE", "20/minute or 100/hour", "partners.E002"),
    ):
        rate = getattr(settings, name)
        try:
            rate_validator(rate)
        except (ValidationError, TypeError):
            errors.append(
                Error(
                    f"{name} must be a rate such as {example}; got {rate!r}.",
                    hint="A whole number above zero, a slash, then second, minute, hour or day.",
                    id=check_id,
                )
            )
    return errors
