"""Reading live pathways and evaluating answers. Readers' answers are never stored.

The only thing written is an anonymous count per pathway revision, disposition
and day; nothing about who answered or what they answered.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone

from articles.models import Article, ArticleKind, Revision

from . import engine
from .content import PREFETCH, pathway_for
from .models import OutcomeCount


class PathwayWithdrawn(Exception):
    """The pathway was withdrawn: answer 410 Gone."""


def live_pathways() -> QuerySet[Revision]:
    return (
        Revision.objects.published()
        .pathways()
        .select_related("article__medication")
        .with_review()
        .with_vocabulary_updated_at()
    )


def live_pathway(slug: str) -> Revision:
    """The live revision of a pathway, with all its rows, or ``Http404`` / ``PathwayWithdrawn``."""
    revision = live_pathways().prefetch_related(*PREFETCH).filter(article__slug=slug).first()
    if revision is None:
        if Article.objects.withdrawn().filter(slug=slug, kind=ArticleKind.TRIAGE_PATHWAY).exists():
            raise PathwayWithdrawn(slug)
        raise Http404("No such pathway.")
    return revision


def pathway_evaluate(*, revision: Revision, answers: dict[str, Any], count: bool = True) -> engine.Result:
    """Evaluate raw answers against a live pathway revision; raises ``engine.AnswerError`` for bad answers.

    Counts the outcome anonymously (per revision, disposition and day); the answers go nowhere.
    """
    pathway = pathway_for(revision)
    result = engine.evaluate(pathway, engine.normalise_answers(pathway, answers))
    if count:
        _count_outcome(revision, result.disposition.key)
    return result


def _count_outcome(revision: Revision, disposition_key: str) -> None:
    day = timezone.localdate()
    counts = OutcomeCount.objects.filter(revision=revision, disposition_key=disposition_key, day=day)
    if counts.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            OutcomeCount.objects.create(revision=revision, disposition_key=disposition_key, day=day, count=1)
    except IntegrityError:  # another request created today's row first
        counts.update(count=F("count") + 1)
