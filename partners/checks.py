"""System checks for the partner settings: a bad rate fails ``manage.py check`` instead of every API request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ValidationError

from .models import rate_validator


@register()
def check_partner_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """``PARTNER_API_RATE`` reads as a partner's own limit does (``rate_validator``): ``N/second|minute|hour|day``."""
    rate = settings.PARTNER_API_RATE
    try:
        rate_validator(rate)
    except (ValidationError, TypeError):
        return [
            Error(
                f"PARTNER_API_RATE must be a rate such as 600/minute or 10000/day; got {rate!r}.",
                hint="A whole number above zero, a slash, then second, minute, hour or day.",
                id="partners.E001",
            )
        ]
    return []
