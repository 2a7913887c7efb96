"""The reader's form, one question per page, red flags first; it only reads and validates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.safestring import mark_safe

from articles.models import Revision

from .content import FormQuestion
from .engine import Kind, asking_rank


def ordered_questions(revision: Revision) -> list[Any]:
    """Red-flag questions first, most urgent first; then the rest, in the clinician's order."""
    questions = list(revision.triage_questions.all())
    questions.sort(key=lambda q: (q.position, q.key))
    return sorted(questions, key=lambda q: asking_rank(q.red_flag_level))


class AnswersForm(forms.Form):
    """The fields for a compiled pathway's ``questions`` (no query): one question per page."""

    def __init__(self, *args: Any, questions: Sequence[FormQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = tuple(questions)
        for question in self.questions:
            if question.kind == Kind.MULTIPLE:
                field: forms.Field = forms.MultipleChoiceField(
                    choices=question.choices, required=False, widget=forms.CheckboxSelectMultiple
                )
            else:
                field = forms.ChoiceField(
                    choices=question.choices,
                    widget=forms.RadioSelect,
                    error_messages={"required": "Answer this question."},
                )
            field.label = question.text
            # Rendered and sanitised Markdown (``articles.rendering``): a hint may list signs.
            field.help_text = mark_safe(question.help_html)  # noqa: S308 - sanitised by nh3
            self.fields[question.key] = field


# --- One question per page ---------------------------------------------------------------------------

NEXT, BACK, CHANGE = "next", "back", "change"


@dataclass(frozen=True)
class Step:
    """What a question or result page posted: every answer so far, the question shown, the button pressed.

    Answers travel in the form itself (hidden fields, POST with CSRF): nothing is stored
    and nothing goes into a URL.
    """

    answers: dict[str, Any]  # raw: an option key, or a list of keys for multiple choice
    asked: str | None  # the question the page showed
    action: str  # NEXT, BACK or CHANGE
    change: str | None  # with CHANGE: the question to show again


def read_step(data: QueryDict, questions: Sequence[FormQuestion]) -> Step:
    """Read a step's POST. Values are checked later (``engine.normalise_answers``), not here."""
    keys = {question.key for question in questions}
    asked = data.get("asked") if data.get("asked") in keys else None
    # A result's "Change" buttons are named "change", their value the question to show again.
    change = data.get(CHANGE) if data.get(CHANGE) in keys else None
    action = CHANGE if change else (BACK if data.get("action") == BACK else NEXT)
    answers: dict[str, Any] = {}
    for question in questions:
        values = data.getlist(question.key)
        if question.kind == Kind.MULTIPLE:
            if question.key in data:
                answers[question.key] = [value for value in values if value != ""]
            elif question.key == asked and action == NEXT:
                answers[question.key] = []  # nothing ticked on its page: none of these
        elif len(values) == 1:
            answers[question.key] = values[0]
        elif values:
            answers[question.key] = values  # refused by normalise_answers: one answer only
    return Step(answers=answers, asked=asked, action=action, change=change)


def carried_answers(
    questions: Sequence[FormQuestion], answers: dict[str, frozenset[str]], *, but: str | None = None
) -> list[tuple[str, str]]:
    """(name, value) of the hidden fields that carry ``answers`` to the next page; an empty choice as ""."""
    fields = []
    for question in questions:
        if question.key == but or question.key not in answers:
            continue
        chosen = [key for key, _ in question.choices if key in answers[question.key]]
        fields.extend((question.key, key) for key in chosen or [""])
    return fields
