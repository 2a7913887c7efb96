"""The reader's form: one field per question, red flags first; it only validates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.safestring import mark_safe

from articles.models import Revision

from .content import FormQuestion, form_questions
from .engine import Kind


def ordered_questions(revision: Revision) -> list[Any]:
    """Red-flag questions first, most urgent first; then the rest, in the clinician's order."""
    questions = list(revision.triage_questions.all())
    return sorted(questions, key=lambda q: (q.red_flag_level is None, -(q.red_flag_level or 0), q.position, q.key))


class AnswersForm(forms.Form):
    """Built from a revision's rows, or from a compiled pathway's ``questions`` (no query)."""

    def __init__(
        self,
        *args: Any,
        revision: Revision | None = None,
        questions: Sequence[FormQuestion] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = tuple(questions) if questions is not None else form_questions(revision)
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

    def answers(self) -> dict[str, Any]:
        return {question.key: self.cleaned_data[question.key] for question in self.questions}
