"""What the triage pages and the API tell every reader, worded once.

The pages render these strings and the API sends them, so a clinician who
rewords one changes it everywhere at once.
"""

DISCLAIMER = "This is not a diagnosis. It is a guide to how urgently to get help, based only on the answers given."
SAFETY_ADVICE = "Do not stop taking your medicine without talking to your doctor."
DEMONSTRATION = "Demonstration only: this check has not been reviewed by a real clinician. Do not rely on it."


def context() -> dict[str, str]:
    """The notices for a page's template context."""
    return {"disclaimer": DISCLAIMER, "safety_advice": SAFETY_ADVICE, "demonstration_notice": DEMONSTRATION}
