"""Many live articles at once, written directly: for read-cost tests, not for workflow tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from articles.live import public_change
from articles.models import (
    Article,
    ChangeEvent,
    ClinicalReview,
    Medication,
    Reference,
    Revision,
    RevisionState,
    Section,
    Symptom,
    SymptomEntry,
    fill_live_tallies,
)


def live_articles(count: int, *, medication: Medication, reviewer: object, prefix: str = "bulk") -> list[Revision]:
    now = timezone.now()
    symptom, _ = Symptom.objects.get_or_create(
        slug=f"{prefix}-symptom",
        defaults={"name": f"{prefix} symptom", "description": "D.", "snomed_ct_code": "123456"},
    )
    articles = Article.objects.bulk_create(
        Article(slug=f"{prefix}-{n:04d}", medication=medication) for n in range(count)
    )
    revisions = Revision.objects.bulk_create(
        Revision(
            article=article,
            number=1,
            state=RevisionState.PUBLISHED,
            title=f"Title {article.slug}",
            topic="Topic",
            summary="Summary.",
            change_summary="First.",
            published_at=now,
            content_hash="0" * 64,
        )
        for article in articles
    )
    Section.objects.bulk_create(
        Section(revision=revision, key=f"s{n}", position=n, heading=f"H{n}", body=f"Body [@r]. {n}")
        for revision in revisions
        for n in (1, 2)
    )
    Reference.objects.bulk_create(
        Reference(
            revision=revision, key="r", position=1, publication_type="web_page", title="T", url="https://example.org/"
        )
        for revision in revisions
    )
    SymptomEntry.objects.bulk_create(
        SymptomEntry(revision=revision, symptom=symptom, key="e", position=1, text="T.") for revision in revisions
    )
    ClinicalReview.objects.bulk_create(
        ClinicalReview(
            revision=revision,
            kind="approval",
            reviewer=reviewer,
            reviewer_name="Dr R",
            reviewer_credentials="MBBS",
            next_review_due=now.date(),
            content_hash="0" * 64,
        )
        for revision in revisions
    )
    ChangeEvent.objects.bulk_create(
        ChangeEvent(article=revision.article, revision=revision, kind="published", occurred_at=now)
        for revision in revisions
    )
    _made_public(article.pk for article in articles)
    return revisions


def live_listings(
    count: int,
    *,
    medications: Sequence[Medication],
    topics: Sequence[str] = ("Topic",),
    prefix: str = "listed",
    batch_size: int = 5000,
) -> None:
    """``count`` live articles with only what lists show (an article and its live revision), fast.

    Spread over ``medications`` and ``topics`` in turn; stamped on the public clock
    as a publication through the services would be. For list and sitemap tests at
    tens of thousands of articles.
    """
    now = timezone.now()
    for start in range(0, count, batch_size):
        numbers = range(start, min(count, start + batch_size))
        articles = Article.objects.bulk_create(
            (Article(slug=f"{prefix}-{n:06d}", medication=medications[n % len(medications)]) for n in numbers),
            batch_size=batch_size,
        )
        Revision.objects.bulk_create(
            (
                Revision(
                    article=article,
                    number=1,
                    state=RevisionState.PUBLISHED,
                    title=f"Title {article.slug}",
                    topic=topics[n % len(topics)],
                    summary="Summary.",
                    published_at=now,
                    content_hash="0" * 64,
                )
                for n, article in zip(numbers, articles, strict=True)
            ),
            batch_size=batch_size,
        )
    _made_public(Article.objects.filter(slug__startswith=f"{prefix}-"))


def _made_public(articles: Iterable[int] | QuerySet[Article]) -> None:
    """Stamp the articles on the public clock and count them live, as the services do when they publish.

    Counted from scratch in a few set-wise queries (as ``rebuild_live_tallies`` does), not article by article.
    """
    with transaction.atomic():
        public_change(articles, keys=("bulk",), live_set_changed=False)
        fill_live_tallies()
