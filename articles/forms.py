"""Forms for the review workflow's actions in the admin: validate, then call a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.fields import InvalidJSONInput

from .content_checks import CheckReport, check_revision
from .json_input import JSONTooDeep, check_depth
from .limits import MAX_COMMENT_CHARS, MAX_LINE_CHARS
from .models import Revision
from .text import TextFormField, normalise_text, validate_text_characters
from .vocabulary_history import vocabulary_version


class TransitionForm(forms.Form):
    """What a workflow step asks for; its cleaned data are the step's service's keyword arguments.

    ``for_revision`` builds the form for one revision (the approval form lists
    that revision's warnings, say; pass ``checks`` when they are at hand); the
    admin uses it both to show the form and to validate what was posted.
    """

    @classmethod
    def for_revision(
        cls, revision: Revision, data: Any = None, *, checks: CheckReport | None = None, **kwargs: Any
    ) -> TransitionForm:
        return cls(data, **kwargs)

    def shown_again(self, revision: Revision) -> TransitionForm:
        """This form as sent, to show again under its refusal on ``revision``'s page as it is now."""
        return self


class SubmitForm(TransitionForm):
    change_summary = TextFormField(
        single_line=True,
        max_length=MAX_LINE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What changed in this revision; readers see it in the page history.",
    )

    # The draft's version as the page showed it: what is submitted is what the submitter's page showed.
    expected_lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    @classmethod
    def for_revision(
        cls, revision: Revision, data: Any = None, *, checks: CheckReport | None = None, **kwargs: Any
    ) -> TransitionForm:
        initial = {"change_summary": revision.change_summary, "expected_lock_version": revision.lock_version}
        return cls(data, initial=initial, **kwargs)

    def shown_again(self, revision: Revision) -> TransitionForm:
        # The page shown again shows the draft as it is now: submitting from it submits that.
        self.data = self.data.copy()
        self.data[self.add_prefix("expected_lock_version")] = revision.lock_version
        return self


class RequestChangesForm(TransitionForm):
    comment = TextFormField(
        max_length=MAX_COMMENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What needs to change, and why.",
    )


class VocabularySeenForm(TransitionForm):
    """A review's form: it carries the medication and symptom details as its page showed them (outside the content
    hash, read with it: ``vocabulary_history.vocabulary_version``), and the service refuses them changed since."""

    vocabulary_seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    @classmethod
    def for_revision(
        cls, revision: Revision, data: Any = None, *, checks: CheckReport | None = None, **kwargs: Any
    ) -> TransitionForm:
        return cls(data, initial={"vocabulary_seen": vocabulary_version(revision)}, **kwargs)

    def clean_vocabulary_seen(self) -> str | None:
        return self.cleaned_data.get("vocabulary_seen") or None  # not sent: nothing to compare

    def shown_again(self, revision: Revision) -> TransitionForm:
        # The page shown again shows the details as they are now: a review from it is of those.
        self.data = self.data.copy()
        self.data[self.add_prefix("vocabulary_seen")] = vocabulary_version(revision)
        return self


class ApproveForm(VocabularySeenForm):
    # The content hash of the revision as the page showed it: the approval is of what the reviewer read.
    content_hash_seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
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
        if warnings:
            self.fields["acknowledged_warnings"].choices = [(w.code, w.message) for w in warnings]
        else:  # nothing to acknowledge: no empty box headed "I have read and accept these warnings"
            del self.fields["acknowledged_warnings"]

    @classmethod
    def for_revision(
        cls, revision: Revision, data: Any = None, *, checks: CheckReport | None = None, **kwargs: Any
    ) -> TransitionForm:
        if checks is None:
            checks = check_revision(Revision.objects.with_content().get(pk=revision.pk))
        initial = {"content_hash_seen": revision.content_hash, "vocabulary_seen": vocabulary_version(revision)}
        return cls(data, warnings=checks.warnings, initial=initial, **kwargs)

    def shown_again(self, revision: Revision) -> TransitionForm:
        # The page shown again shows the revision as it is now: approving from it approves that.
        super().shown_again(revision)
        self.data[self.add_prefix("content_hash_seen")] = revision.content_hash
        return self


class ConfirmReviewForm(VocabularySeenForm):
    next_review_due = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Default: 12 months from today. At most 3 years.",
    )
    comment = TextFormField(required=False, max_length=MAX_COMMENT_CHARS, widget=forms.Textarea(attrs={"rows": 2}))


class PublishForm(TransitionForm):
    publish_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text="Leave empty to publish now, or choose a time to schedule it (site time zone).",
    )


class ReasonForm(TransitionForm):
    reason = TextFormField(max_length=MAX_COMMENT_CHARS, widget=forms.Textarea(attrs={"rows": 2}))


class OptionalReasonForm(TransitionForm):
    reason = TextFormField(required=False, max_length=MAX_COMMENT_CHARS, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    body = TextFormField(label="Comment", max_length=MAX_COMMENT_CHARS, widget=forms.Textarea(attrs={"rows": 3}))
    section_key = forms.ChoiceField(
        label="About section",
        required=False,
        # A section removed while the page was open (another tab, another editor): say so, not Django's words.
        error_messages={
            "invalid_choice": "That section is no longer in this revision: reload the page, then add the comment."
        },
    )

    def __init__(self, *args: Any, revision: Revision, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section_key"].choices = [("", "The whole revision")] + [
            (section.key, section.heading) for section in revision.sections.all()
        ]


class BoundedJSONFormField(forms.JSONField):
    """Django's JSON form field, refusing nesting past ``MAX_JSON_DEPTH`` before parsing (never a RecursionError)."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and not self.disabled:
            try:
                check_depth(value)
            except JSONTooDeep as error:
                raise forms.ValidationError(f"Enter valid JSON: {error}.", code="invalid") from None
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Shown back to the editor as typed when too deep to parse (as Django does for invalid JSON).
        if isinstance(data, str) and not self.disabled:
            try:
                check_depth(data)
            except JSONTooDeep:
                return InvalidJSONInput(data)
        return super().bound_data(data, initial)


class LineListField(forms.Field):
    """A list of short texts edited as lines of a textarea, one item per line (brand names, say).

    Each line is normalised as every text is (NFC, no surrounding spaces); empty
    lines and repeats (ignoring case) are dropped, keeping the first spelling.
    At most ``max_items`` items of at most ``max_item_chars`` characters each.
    A stored list shows as its lines, so an unchanged form saves the same list.
    """

    widget = forms.Textarea

    def __init__(self, *, max_items: int, max_item_chars: int, **kwargs: Any) -> None:
        self.max_items = max_items
        self.max_item_chars = max_item_chars
        kwargs.setdefault("help_text", f"One per line: at most {max_items}, each at most {max_item_chars} characters.")
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("rows", 3)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        lines = value if isinstance(value, list | tuple) else str(value).splitlines()
        items: list[str] = []
        seen: set[str] = set()
        for line in lines:
            item = normalise_text(str(line))
            if item and item.casefold() not in seen:
                seen.add(item.casefold())
                items.append(item)
        return items

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > self.max_items:
            raise forms.ValidationError(f"List at most {self.max_items}, one per line.", code="too_many_items")
        for item in value:
            validate_text_characters(item)
            if len(item) > self.max_item_chars:
                raise forms.ValidationError(
                    f"Each line is at most {self.max_item_chars} characters; one has {len(item)}.",
                    code="item_too_long",
                )

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(initial) != self.to_python(data)
        except forms.ValidationError:
            return True
