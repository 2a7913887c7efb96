"""Forms for the review workflow's actions in the admin: validate, then call a service."""

from __future__ import annotations

from typing import Any

from django import forms

from .limits import MAX_COMMENT_CHARS, MAX_LINE_CHARS
from .models import Revision
from .text import TextFormField


class SubmitForm(forms.Form):
    change_summary = TextFormField(
        single_line=True,
        max_length=MAX_LINE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What changed in this revision; readers see it in the page history.",
    )


class RequestChangesForm(forms.Form):
    comment = TextFormField(
        max_length=MAX_COMMENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What needs to change, and why.",
    )


class ApproveForm(forms.Form):
    acknowledged_warnings = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="I have read and accept these warnings"
    )
    next_review_due = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Default: 12 months from today. At most 3 years.",
    )
    comment = TextFormField(required=False, max_length=MAX_COMMENT_CHARS, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, warnings: list[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["acknowledged_warnings"].choices = [(w.code, w.message) for w in warnings]


class ConfirmReviewForm(forms.Form):
    next_review_due = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Default: 12 months from today. At most 3 years.",
    )
    comment = TextFormField(required=False, max_length=MAX_COMMENT_CHARS, widget=forms.Textarea(attrs={"rows": 2}))


class PublishForm(forms.Form):
    publish_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text="Leave empty to publish now, or choose a time to schedule it (site time zone).",
    )


class ReasonForm(forms.Form):
    reason = TextFormField(max_length=MAX_COMMENT_CHARS, widget=forms.Textarea(attrs={"rows": 2}))


class OptionalReasonForm(forms.Form):
    reason = TextFormField(required=False, max_length=MAX_COMMENT_CHARS, widget=forms.Textarea(attrs={"rows": 2}))


class EmptyForm(forms.Form):
    pass


class CommentForm(forms.Form):
    body = TextFormField(label="Comment", max_length=MAX_COMMENT_CHARS, widget=forms.Textarea(attrs={"rows": 3}))
    section_key = forms.ChoiceField(label="About section", required=False)

    def __init__(self, *args: Any, revision: Revision, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section_key"].choices = [("", "The whole revision")] + [
            (section.key, section.heading) for section in revision.sections.all()
        ]
