"""System checks for the triage settings: the emergency number every result shows, and the safety checks' bound."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

# A number dialled as written: digits only, as short as emergency numbers are (999, 112, 911, 000).
EMERGENCY_NUMBER = re.compile(r"[0-9]{2,6}")
MAX_ANSWER_COMBINATIONS = 2**20


@register()
def check_triage_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Refuse an emergency number nobody could dial and a safety-check bound that is zero or unbounded."""
    errors: list[CheckMessage] = []
    number = settings.TRIAGE_EMERGENCY_NUMBER
    if not isinstance(number, str) or not EMERGENCY_NUMBER.fullmatch(number):
        errors.append(
            Error(
                f"TRIAGE_EMERGENCY_NUMBER must be 2 to 6 digits, nothing else; got {number!r}.",
                hint="The number every triage form and result tells readers to call, e.g. 999.",
                id="triage.E001",
            )
        )
    bound = settings.TRIAGE_MAX_ANSWER_COMBINATIONS
    if not isinstance(bound, int) or isinstance(bound, bool) or not 1 <= bound <= MAX_ANSWER_COMBINATIONS:
        errors.append(
            Error(
                f"TRIAGE_MAX_ANSWER_COMBINATIONS must be between 1 and {MAX_ANSWER_COMBINATIONS}; got {bound!r}.",
                hint="The safety checks enumerate every combination of answers; larger pathways are refused.",
                id="triage.E002",
            )
        )
    return errors
