"""Public triage pages. They work without JavaScript and store nothing about the reader."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_http_methods

from articles.models import Revision, Withdrawn

from . import engine, notices, services
from .forms import AnswersForm


def _demonstration(revision: Revision) -> bool:
    """Demonstration content until a real clinician reviews it."""
    review = revision.current_review
    return review is None or review.reviewer_is_demonstration


def pathway_list(request: HttpRequest) -> HttpResponse:
    pathways = list(services.live_pathways().order_by("title", "pk"))
    context = {"pathways": [(revision, _demonstration(revision)) for revision in pathways], **notices.context()}
    response = render(request, "triage/pathway_list.html", context)
    patch_cache_control(response, public=True, no_cache=True)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def pathway(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the questions. POST: the result, computed and shown, never stored."""
    try:
        revision = services.live_pathway(slug)
    except Withdrawn:
        return render(request, "triage/withdrawn.html", status=410)
    context: dict[str, Any] = {
        "revision": revision,
        "demonstration": _demonstration(revision),
        "emergency_number": settings.TRIAGE_EMERGENCY_NUMBER,
        **notices.context(),
    }
    if request.method == "POST":
        form = AnswersForm(request.POST, revision=revision)
        if form.is_valid():
            result = services.pathway_evaluate(revision=revision, answers=form.answers())
            response = render(request, "triage/result.html", {**context, **_result_context(revision, result)})
            add_never_cache_headers(response)  # a result page is personal; no cache keeps it
            return response
        status = 400
    else:
        form = AnswersForm(revision=revision)
        status = 200
    response = render(request, "triage/pathway_form.html", {**context, "form": form}, status=status)
    add_never_cache_headers(response)
    return response


def _result_context(revision: Revision, result: engine.Result) -> dict[str, Any]:
    disposition = next(d for d in revision.triage_dispositions.all() if d.key == result.disposition.key)
    rules = {rule.key: rule for rule in revision.triage_rules.all()}
    questions = {question.key: question for question in revision.triage_questions.all()}
    live_articles = {
        r.article_id: r
        for r in Revision.objects.published()
        .articles()
        .filter(article__in=list(disposition.articles.all()))
        .select_related("article")
    }
    return {
        "result": result,
        "disposition": disposition,
        "level": engine.Level(disposition.level),
        "reasons": [
            rules[key].description for key in result.fired_rules if rules[key].disposition_id == disposition.pk
        ],
        "red_flags": [questions[key] for key in result.red_flags],
        "articles": [live_articles[a.pk] for a in disposition.articles.all() if a.pk in live_articles],
    }
