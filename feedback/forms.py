"""The feedback form: the one place a reader's answer is read, checked and normalised.

Refused with a form error (a 400 page that stores nothing): a missing answer, a
"No" without a reason, text over ``MAX_FEEDBACK_CHARS`` or with characters
``articles.text`` refuses, and text with a link, markup or an email address:
the queue is read by editors in the admin, and the box is for what was wrong,
not for advertising or for personal details.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from articles.text import TextFormField

from .models import MAX_FEEDBACK_CHARS, Reason

YES, NO = "yes", "no"
# A field no person sees (hidden from screen and assistive technology); software that fills every field fills it.
HONEYPOT = "website"

_LINK = re.compile(
    r"[a-z][a-z0-9+.\-]*://"  # any scheme: http://, ftp://...
    r"|\bwww\.|\bmailto:|\bjavascript:"
    r"|\b[a-z0-9\-]+\.(?:com|net|org|info|biz|io|co|ru|xyz|top|site|online|shop|link|click)\b",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"<\s*/?\s*[a-z!?]|\]\s*\(|\[/?(?:url|link|img)\b|&[a-z]+;|&#", re.IGNORECASE)
# Tried only where a word starts (what it would find from inside a word it finds from the word's start), so a long
# run without spaces is read once, not once per character. Text is at most MAX_FEEDBACK_CHARS when these run.
_EMAIL = re.compile(r"(?<![^\s@])[^\s@]+@[^\s@]+\.[^\s@]+")

NO_LINKS = "Remove the link or web address: feedback cannot include links."
NO_MARKUP = "Remove the markup (such as < > or [link](...)): write plain text."
NO_EMAIL = "Remove the email address: we do not store personal details."
CHOOSE_HELPFUL = "Choose yes or no."
CHOOSE_REASON = "Choose what was wrong."


def validate_plain_feedback(value: str) -> None:
    """Refuse links, markup and email addresses in a reader's text."""
    if _EMAIL.search(value):
        raise ValidationError(NO_EMAIL, code="email")
    if _LINK.search(value):
        raise ValidationError(NO_LINKS, code="link")
    if _MARKUP.search(value):
        raise ValidationError(NO_MARKUP, code="markup")


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(
        label="Is this page helpful?",
        choices=[(YES, "Yes"), (NO, "No")],
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_HELPFUL, "invalid_choice": CHOOSE_HELPFUL},
    )
    reason = forms.ChoiceField(
        label="What was wrong?",
        choices=Reason.choices,
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": CHOOSE_REASON},
    )
    text = TextFormField(
        label="Tell us more (optional)",
        help_text=(
            f"Up to {MAX_FEEDBACK_CHARS} characters. Do not include your name, email address or other "
            "personal or medical details: we cannot reply. Links are not accepted."
        ),
        max_length=MAX_FEEDBACK_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_FEEDBACK_CHARS}),
        validators=[validate_plain_feedback],
    )
    website = forms.CharField(required=False, max_length=200, label="Leave this empty")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[HONEYPOT].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_trap(self) -> bool:
        """The hidden field was filled: software, not a reader. Answer as if thanked; store nothing."""
        return bool(self.data.get(HONEYPOT, "").strip())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("helpful") == NO and not data.get("reason"):
            self.add_error("reason", ValidationError(CHOOSE_REASON, code="required"))
        if data.get("helpful") == YES:
            data["reason"] = ""
        return data
