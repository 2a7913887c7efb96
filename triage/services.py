"""Reading live pathways and evaluating answers. Readers' answers are never stored.

The only thing written is an anonymous count per pathway revision, disposition
and day; nothing about who answered or what they answered.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from articles.models import Revision, RevisionQuerySet

from . import engine
from .content import PREFETCH, pathway_for
from .models import PATHWAY, OutcomeCount


def _pathways() -> RevisionQuerySet:
    return Revision.objects.of_kind(PATHWAY).select_related("article__medication").with_review()


def live_pathways() -> RevisionQuerySet:
    return _pathways().published()


def live_pathway(slug: str) -> Revision:
    """The live revision of a pathway, with all its rows.

    Raises ``articles.models.Withdrawn`` (410 Gone) or ``Http404``: the one
    "live, else gone, else not found" read of ``RevisionQuerySet.get_live``.
    """
    return _pathways().with_vocabulary_updated_at().prefetch_related(*PREFETCH).get_live(slug, kind=PATHWAY)


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
