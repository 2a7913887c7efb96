"""Public triage pages: one question per page, no JavaScript needed, nothing stored about the reader.

The answers so far travel in each page's POST form (hidden fields, CSRF-protected),
never in a URL and never on the server. The result comes as soon as the answers
given settle it (``engine.settled``); ``services.pathway_evaluate`` decides.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from articles.models import Withdrawn
from contentsite.methods import allow_get, allow_methods

from . import engine, notices, services
from .content import CompiledPathway, FormQuestion, reason_for_reader
from .forms import BACK, CHANGE, AnswersForm, carried_answers, read_step, shown_field

ANSWER_THIS = "Answer this question."
CHOOSE_AN_ANSWER = "Choose one of the answers."


@allow_get
def pathway_list(request: HttpRequest) -> HttpResponse:
    """ "What have you noticed?": the signs that need no check (call now), then the live pathways by symptom."""
    finder = services.pathway_finder()
    context = {"finder": finder, **notices.context()}
    response = render(request, "triage/pathway_list.html", context)
    patch_cache_control(response, public=True, no_cache=True)
    return response


@allow_methods("GET", "HEAD", "POST")
def pathway(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the first question. POST: the next question, the one before ("Back"), or the result."""
    try:
        compiled = services.compiled_pathway(slug)
    except Withdrawn:
        # Whoever was part-way through it may have just answered yes to a warning sign: the numbers to call stay.
        return render(request, "triage/withdrawn.html", notices.context(), status=410)
    except Http404:
        # A mistyped or old link, a check never published: whoever followed it was looking for how urgently to get
        # help, so the numbers to call and the way to the checks, not the site's "page not found".
        return render(request, "triage/not_found.html", notices.context(), status=404)
    if request.method != "POST":
        return _question_page(request, compiled, compiled.questions[0], {})
    step = read_step(request.POST, compiled.questions)
    # A new revision went live while the reader answered, in other words for some questions: those answers were left
    # out (``read_step``), and the check goes on from the first question not answered, in the asking order.
    updated = bool(step.reworded)
    try:
        evaluation = services.pathway_evaluate(
            pathway=compiled,
            answers=step.answers,
            after=None if updated else step.asked,
            count=step.action not in (BACK, CHANGE),
        )
    except engine.AnswerError as error:  # only a tampered form gets here: show the first question at fault
        question = next(q for q in compiled.questions if q.key in error.problems)
        valid = {key: value for key, value in step.answers.items() if key not in error.problems}
        answers = engine.normalise_answers(compiled.pathway, valid, partial=True)
        return _question_page(request, compiled, question, answers, error=CHOOSE_AN_ANSWER)
    answers = evaluation.answers
    if step.action == BACK:
        index = _index(compiled, step.asked)
        return _question_page(request, compiled, compiled.questions[max(index - 1, 0)], answers, updated=updated)
    if step.action == CHANGE:
        question = compiled.questions[_index(compiled, step.change)]
        return _question_page(request, compiled, question, answers, updated=updated)
    if step.asked is not None and step.asked not in answers and step.asked not in step.reworded:
        question = compiled.questions[_index(compiled, step.asked)]
        return _question_page(request, compiled, question, answers, error=ANSWER_THIS, updated=updated)
    if evaluation.result is None:
        question = _form_question(compiled, evaluation.next_question)
        return _question_page(request, compiled, question, answers, updated=updated)
    return _result_page(request, compiled, evaluation.result, answers, updated=updated)


def _index(pathway: CompiledPathway, key: str | None) -> int:
    return next((n for n, question in enumerate(pathway.questions) if question.key == key), 0)


def _form_question(pathway: CompiledPathway, question: engine.Question | None) -> FormQuestion:
    return pathway.questions[_index(pathway, question.key if question else None)]


def _question_page(
    request: HttpRequest,
    pathway: CompiledPathway,
    question: FormQuestion,
    answers: dict[str, frozenset[str]],
    *,
    error: str = "",
    updated: bool = False,
) -> HttpResponse:
    """One question, its answer so far ticked, the other answers carried in hidden fields (with the words the
    question is shown in: ``forms.SHOWN``)."""
    given = answers.get(question.key)
    initial = {}
    if given is not None:
        initial[question.key] = sorted(given) if question.kind == engine.Kind.MULTIPLE else next(iter(given), None)
    form = AnswersForm(initial=initial, questions=[question])
    number = _index(pathway, question.key) + 1
    context: dict[str, Any] = {
        "pathway": pathway,
        "demonstration": pathway.is_demonstration,
        "form": form,
        "field": form[question.key],
        "error": error,
        "number": number,
        "total": len(pathway.questions),
        "first": number == 1,
        "carried": [*carried_answers(pathway.questions, answers, but=question.key), shown_field(question)],
        "updated": updated,
        **notices.context(),
    }
    response = render(request, "triage/question.html", context, status=400 if error else 200)
    return _personal(response)


def _result_page(
    request: HttpRequest,
    pathway: CompiledPathway,
    result: engine.Result,
    answers: dict[str, frozenset[str]],
    *,
    updated: bool = False,
) -> HttpResponse:
    disposition = pathway.dispositions[result.disposition.key]
    your_answers = [
        (question, ", ".join(label for key, label in question.choices if key in answers[question.key]) or "None")
        for question in pathway.questions
        if question.key in answers
    ]
    context = {
        "pathway": pathway,
        "demonstration": pathway.is_demonstration,
        "result": result,
        "disposition": disposition,
        "level": disposition.level,
        "call_now": disposition.level == engine.Level.EMERGENCY,
        "contact_today": disposition.level == engine.Level.URGENT,
        "reasons": [
            reason_for_reader(pathway.rules[key][0])
            for key in result.fired_rules
            if pathway.rules[key][1] == disposition.key
        ],
        "red_flags": [pathway.question_texts[key] for key in result.red_flags],
        "articles": services.articles_to_read(
            disposition_article_ids=disposition.article_ids, symptom_ids=pathway.symptom_ids
        ),
        "your_answers": your_answers,
        "carried": carried_answers(pathway.questions, answers),
        "updated": updated,
        **notices.context(),
        "demonstration_notice": notices.demonstration_notice(emergency=disposition.level == engine.Level.EMERGENCY),
    }
    response = render(request, "triage/result.html", context)
    return _personal(response)


def _personal(response: HttpResponse) -> HttpResponse:
    """A page carrying a reader's answers: no shared cache keeps it (``private``), and the browser asks again
    before using its copy (``no-cache``), except to go back or forward to it. Not ``no-store``: each of these
    pages answers a form's POST, so with nothing kept the browser's own Back showed "Confirm Form Resubmission"
    (ERR_CACHE_MISS) instead of the last question or the result. The reader's browser keeps its copy, as it
    keeps its history."""
    patch_cache_control(response, private=True, no_cache=True)
    return response
