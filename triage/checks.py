"""System checks for the triage settings: the numbers every page shows to call, and the safety checks' bound."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

# A number dialled as written: digits only, as short as emergency numbers are (999, 112, 911, 000).
EMERGENCY_NUMBER = re.compile(r"[0-9]{2,6}")
MAX_ANSWER_COMBINATIONS = 2**20
# An advice line may be a short code (111, 116117) or a full number: digits, an optional
# leading +, single spaces between groups; at most 15 digits (E.164).
URGENT_ADVICE_NUMBER = re.compile(r"\+?[0-9]+( [0-9]+)*")
URGENT_ADVICE_NAME_CHARS = 40


@register()
def check_triage_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Refuse a number nobody could dial, a missing advice-line name, a safety-check bound of zero or no bound."""
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
    advice = settings.TRIAGE_URGENT_ADVICE_NUMBER
    if (
        not isinstance(advice, str)
        or not URGENT_ADVICE_NUMBER.fullmatch(advice)
        or not 2 <= sum(c.isdigit() for c in advice) <= 15
    ):
        errors.append(
            Error(
                f"TRIAGE_URGENT_ADVICE_NUMBER must be a phone number (2 to 15 digits, an optional leading +, "
                f"single spaces between groups); got {advice!r}.",
                hint="The urgent-advice line every triage page offers as a tap-to-call link, e.g. 111.",
                id="triage.E003",
            )
        )
    name = settings.TRIAGE_URGENT_ADVICE_NAME
    if not isinstance(name, str) or not name.strip() or len(name) > URGENT_ADVICE_NAME_CHARS or not name.isprintable():
        errors.append(
            Error(
                f"TRIAGE_URGENT_ADVICE_NAME must be 1 to {URGENT_ADVICE_NAME_CHARS} printable characters; "
                f"got {name!r}.",
                hint="The name urgent results tell readers to contact today, e.g. NHS 111.",
                id="triage.E004",
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
