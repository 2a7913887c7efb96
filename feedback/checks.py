"""System check for the feedback setting: a bad ``FEEDBACK_RATE`` fails ``manage.py check``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ValidationError

from partners.models import rate_validator


@register()
def check_feedback_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """``FEEDBACK_RATE`` reads as ``N/second|minute|hour|day``, as the partner rates do."""
    rate = settings.FEEDBACK_RATE
    try:
        rate_validator(rate)
    except (ValidationError, TypeError):
        return [
            Error(
                f"FEEDBACK_RATE must be a rate such as 10/hour; got {rate!r}.",
                hint="A whole number above zero, a slash, then second, minute, hour or day.",
                id="feedback.E001",
            )
        ]
    return []
