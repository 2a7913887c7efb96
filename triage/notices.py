"""What the triage pages and the API tell every reader, worded once.

The pages render these strings and the API sends them, so a clinician who
rewords one changes it everywhere at once. The numbers to call come from settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

DISCLAIMER = "This is not a diagnosis. It is a guide to how urgently to get help, based only on the answers given."
SAFETY_ADVICE = "Do not stop taking your medicine without talking to your doctor."
DEMONSTRATION = "Demonstration only: this check has not been reviewed by a real clinician. Do not rely on it."
# On an emergency result, "do not rely on it" straight after "call now" could read as a reason to wait.
DEMONSTRATION_EMERGENCY = (
    "Demonstration only: this check has not been reviewed by a real clinician. Do not let that delay you: with a "
    "warning sign like this, call the emergency number now."
)

# A new revision went live while the reader answered (``forms.read_step``): on a question, the answers to questions now
# worded otherwise were left out, to be asked again; on a result, it is the new revision's.
UPDATED = "This check was updated while you were answering. If the words of a question changed, we ask it again."
UPDATED_RESULT = "This check was updated while you were answering. This result is from the updated check."


def demonstration_notice(*, emergency: bool) -> str:
    """The demonstration notice for a page; on an emergency result, the one that cannot be read as "wait"."""
    return DEMONSTRATION_EMERGENCY if emergency else DEMONSTRATION


@dataclass(frozen=True)
class Phone:
    """A number to call, as written and as a ``tel:`` link."""

    number: str
    name: str

    @property
    def tel(self) -> str:
        return "tel:" + self.number.replace(" ", "")


def emergency() -> Phone:
    return Phone(settings.TRIAGE_EMERGENCY_NUMBER, settings.TRIAGE_EMERGENCY_NUMBER)


def urgent_advice() -> Phone:
    """Whom to contact today when it is urgent but not an emergency (e.g. NHS 111)."""
    return Phone(settings.TRIAGE_URGENT_ADVICE_NUMBER, settings.TRIAGE_URGENT_ADVICE_NAME)


def context() -> dict[str, Any]:
    """The notices and numbers for a page's template context (``triage/_numbers.html`` shows the numbers)."""
    return {
        "disclaimer": DISCLAIMER,
        "safety_advice": SAFETY_ADVICE,
        "demonstration_notice": DEMONSTRATION,
        "updated_notice": UPDATED,
        "updated_result_notice": UPDATED_RESULT,
        "emergency": emergency(),
        "emergency_number": settings.TRIAGE_EMERGENCY_NUMBER,
        "urgent_advice": urgent_advice(),
    }
