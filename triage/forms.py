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
# Hidden fields "<question key>:<fingerprint>" (``FormQuestion.fingerprint``): the words each answer in the form,
# and the question on the page, were shown in.
SHOWN = "shown"


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
    # The questions the reader was shown in words the pathway live now no longer has (a new revision went live
    # while they answered, or one was removed): their answers were left out, to be asked again.
    reworded: frozenset[str] = frozenset()


def read_step(data: QueryDict, questions: Sequence[FormQuestion]) -> Step:
    """Read a step's POST. Values are checked later (``engine.normalise_answers``), not here.

    An answer counts only for the question in the words the reader was shown: one whose
    words changed since (``SHOWN``) is named in ``reworded`` and left out, to be asked again,
    unless it is a warning sign (``FormQuestion.red_flag_options``): a reader who has just
    said yes to the signs of a stroke is not kept from "call now" by a rewording, and kept,
    that yes can only make the advice more urgent, never less. A form that says nothing of
    the words (not one of these pages) is taken as it is.
    """
    fingerprints = {question.key: question.fingerprint for question in questions}
    keys = set(fingerprints)
    shown = (value.rpartition(":") for value in data.getlist(SHOWN))
    reworded = frozenset(key for key, _, fingerprint in shown if key and fingerprints.get(key) != fingerprint)
    asked = data.get("asked") if data.get("asked") in keys else None
    # A result's "Change" buttons are named "change", their value the question to show again.
    change = data.get(CHANGE) if data.get(CHANGE) in keys else None
    action = CHANGE if change else (BACK if data.get("action") == BACK else NEXT)
    answers: dict[str, Any] = {}
    for question in questions:
        values = data.getlist(question.key)
        if question.key in reworded and not (values and set(values) <= question.red_flag_options):
            continue
        if question.kind == Kind.MULTIPLE:
            if question.key in data:
                answers[question.key] = [value for value in values if value != ""]
            elif question.key == asked and action == NEXT:
                answers[question.key] = []  # nothing ticked on its page: none of these
        elif len(values) == 1:
            answers[question.key] = values[0]
        elif values:
            answers[question.key] = values  # refused by normalise_answers: one answer only
    return Step(answers=answers, asked=asked, action=action, change=change, reworded=reworded)


def carried_answers(
    questions: Sequence[FormQuestion], answers: dict[str, frozenset[str]], *, but: str | None = None
) -> list[tuple[str, str]]:
    """(name, value) of the hidden fields that carry ``answers`` to the next page; an empty choice as "".

    Each answer goes with the words it was given to (``SHOWN``), so a later page can tell a
    question reworded meanwhile from the one the reader answered.
    """
    fields = []
    for question in questions:
        if question.key == but or question.key not in answers:
            continue
        chosen = [key for key, _ in question.choices if key in answers[question.key]]
        fields.extend((question.key, key) for key in chosen or [""])
        fields.append(shown_field(question))
    return fields


def shown_field(question: FormQuestion) -> tuple[str, str]:
    """The hidden field saying in which words ``question`` was shown."""
    return SHOWN, f"{question.key}:{question.fingerprint}"
