"""Many live articles at once, written directly: for read-cost tests, not for workflow tests."""

from __future__ import annotations

from django.db import transaction
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
)

BATCH = 5000


def live_articles(count: int, *, medication: Medication, reviewer: object, prefix: str = "bulk") -> list[Revision]:
    """``count`` live articles, stamped on the public clock as if published through the services."""
    with transaction.atomic():
        revisions = _live_articles(count, medication=medication, reviewer=reviewer, prefix=prefix)
        public_change([revision.article_id for revision in revisions])
    return revisions


def _live_articles(count: int, *, medication: Medication, reviewer: object, prefix: str) -> list[Revision]:
    now = timezone.now()
    symptom, _ = Symptom.objects.get_or_create(
        slug=f"{prefix}-symptom",
        defaults={"name": f"{prefix} symptom", "description": "D.", "snomed_ct_code": "123456"},
    )
    articles = Article.objects.bulk_create(
        (Article(slug=f"{prefix}-{n:04d}", medication=medication, public_updated_at=now) for n in range(count)),
        batch_size=BATCH,
    )
    revisions = Revision.objects.bulk_create(
        (
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
        ),
        batch_size=BATCH,
    )
    Section.objects.bulk_create(
        (
            Section(revision=revision, key=f"s{n}", position=n, heading=f"H{n}", body=f"Body [@r]. {n}")
            for revision in revisions
            for n in (1, 2)
        ),
        batch_size=BATCH,
    )
    Reference.objects.bulk_create(
        (
            Reference(
                revision=revision,
                key="r",
                position=1,
                publication_type="web_page",
                title="T",
                url="https://example.org/",
            )
            for revision in revisions
        ),
        batch_size=BATCH,
    )
    SymptomEntry.objects.bulk_create(
        (SymptomEntry(revision=revision, symptom=symptom, key="e", position=1, text="T.") for revision in revisions),
        batch_size=BATCH,
    )
    ClinicalReview.objects.bulk_create(
        (
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
        ),
        batch_size=BATCH,
    )
    ChangeEvent.objects.bulk_create(
        (
            ChangeEvent(article=revision.article, revision=revision, kind="published", occurred_at=now)
            for revision in revisions
        ),
        batch_size=BATCH,
    )
    return revisions
