"""Public triage pages. They work without JavaScript and store nothing about the reader."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control

from articles.models import Revision, Withdrawn
from contentsite.methods import allow_get, allow_methods

from . import notices, services
from .content import CompiledPathway
from .forms import AnswersForm


def _demonstration(revision: Revision) -> bool:
    """Demonstration content until a real clinician reviews it."""
    review = revision.current_review
    return review is None or review.reviewer_is_demonstration


@allow_get
def pathway_list(request: HttpRequest) -> HttpResponse:
    pathways = list(services.live_pathways().order_by("title", "pk"))
    context = {"pathways": [(revision, _demonstration(revision)) for revision in pathways], **notices.context()}
    response = render(request, "triage/pathway_list.html", context)
    patch_cache_control(response, public=True, no_cache=True)
    return response


@allow_methods("GET", "HEAD", "POST")
def pathway(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the questions. POST: the result, computed and shown, never stored."""
    try:
        if request.method == "POST":
            result = _result(request, services.compiled_pathway(slug))
            if result is not None:
                return result
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
        form.is_valid()
        status = 400
    else:
        form = AnswersForm(revision=revision)
        status = 200
    response = render(request, "triage/pathway_form.html", {**context, "form": form}, status=status)
    add_never_cache_headers(response)
    return response


def _result(request: HttpRequest, pathway: CompiledPathway) -> HttpResponse | None:
    """The result page from the compiled pathway, or None if the answers are invalid (the form shows why)."""
    form = AnswersForm(request.POST, questions=pathway.questions)
    if not form.is_valid():
        return None
    result = services.pathway_evaluate(pathway=pathway, answers=form.answers())
    disposition = pathway.dispositions[result.disposition.key]
    context = {
        "pathway": pathway,
        "demonstration": pathway.is_demonstration,
        "emergency_number": settings.TRIAGE_EMERGENCY_NUMBER,
        "result": result,
        "disposition": disposition,
        "level": disposition.level,
        "reasons": [pathway.rules[key][0] for key in result.fired_rules if pathway.rules[key][1] == disposition.key],
        "red_flags": [pathway.question_texts[key] for key in result.red_flags],
        "articles": _live_articles(disposition.article_ids),
        **notices.context(),
    }
    response = render(request, "triage/result.html", context)
    add_never_cache_headers(response)  # a result page is personal; no cache keeps it
    return response


def _live_articles(article_ids: tuple[int, ...]) -> list[Revision]:
    """The live revisions of the related articles, in the clinician's order: one query, or none."""
    if not article_ids:
        return []
    live = {
        r.article_id: r
        for r in Revision.objects.published().articles().filter(article__in=article_ids).select_related("article")
    }
    return [live[pk] for pk in article_ids if pk in live]
