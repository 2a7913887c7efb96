"""The reader's form: one field per question, red flags first; it only validates."""

from __future__ import annotations

from typing import Any

from django import forms

from articles.models import Revision

from .engine import Kind


def ordered_questions(revision: Revision) -> list[Any]:
    """Red-flag questions first, most urgent first; then the rest, in the clinician's order."""
    questions = list(revision.triage_questions.all())
    return sorted(questions, key=lambda q: (q.red_flag_level is None, -(q.red_flag_level or 0), q.position, q.key))


class AnswersForm(forms.Form):
    def __init__(self, *args: Any, revision: Revision, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = ordered_questions(revision)
        for question in self.questions:
            choices = [(option.key, option.label) for option in question.options.all()]
            if question.kind == Kind.MULTIPLE:
                field: forms.Field = forms.MultipleChoiceField(
                    choices=choices, required=False, widget=forms.CheckboxSelectMultiple
                )
            else:
                field = forms.ChoiceField(
                    choices=choices,
                    widget=forms.RadioSelect,
                    error_messages={"required": "Answer this question."},
                )
            field.label = question.text
            field.help_text = question.help_text
            self.fields[question.key] = field

    def answers(self) -> dict[str, Any]:
        return {question.key: self.cleaned_data[question.key] for question in self.questions}
