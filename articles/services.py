"""Every change to articles and revisions goes through a function here.

Each function is keyword-only, runs in a transaction, locks the rows it
decides on, and refuses illegal moves with ``ValidationError`` or
``PermissionDenied`` so that nothing is half-done.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .interchange.export import content_hash, revision_content
from .interchange.importer import validate_document, write_revision_content
from .models import Article, Medication, Revision, RevisionState, Symptom


def _next_number(article: Article) -> int:
    # The caller has locked the article row, so two drafts cannot take the same number.
    return (article.revisions.aggregate(Max("number"))["number__max"] or 0) + 1


def revision_create_draft(
    *, article: Article, actor: AbstractBaseUser | None, based_on: Revision | None = None
) -> Revision:
    """Start a new draft of ``article``, copied from ``based_on`` when given.

    Copying keeps every row's key, so the new draft can be compared row by row
    with the revision it came from; it is also how an old revision is restored.
    """
    if actor is not None and not actor.has_perm("articles.add_revision"):
        raise PermissionDenied("You may not create drafts.")
    if based_on is not None and based_on.article_id != article.pk:
        raise ValidationError("A draft can only be copied from a revision of the same article.", code="foreign")
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        source = Revision.objects.with_content().get(pk=based_on.pk) if based_on is not None else None
        revision = Revision.objects.create(
            article=article,
            number=_next_number(article),
            state=RevisionState.DRAFT,
            title=source.title if source else "",
            summary=source.summary if source else "",
            based_on=source,
            created_by=actor,
        )
        if source is not None:
            content = revision_content(source)
            symptoms = {entry.symptom.slug: entry.symptom for entry in source.symptom_entries.all()}
            write_revision_content(revision, content, symptoms)
    return revision


def article_create(*, article: Article, title: str, summary: str, actor: AbstractBaseUser | None) -> Revision:
    """Save a new ``article`` (unsaved instance) with an empty first draft."""
    if actor is not None and not (actor.has_perm("articles.add_article") and actor.has_perm("articles.add_revision")):
        raise PermissionDenied("You may not create articles.")
    article.full_clean()
    with transaction.atomic():
        article.save()
        revision = Revision(article=article, number=1, title=title, summary=summary, created_by=actor)
        revision.full_clean(exclude=["based_on", "created_by"])
        revision.save()
    return revision


def article_import(*, document: Any, actor: AbstractBaseUser | None) -> Revision:
    """Import an interchange document as a new draft revision.

    Creates the medication, symptoms and article when they are new. Validates
    everything first; raises ``ImportRejected`` with every problem and writes
    nothing if anything is wrong.
    """
    validate_document(document)
    with transaction.atomic():
        data = document["medication"]
        medication = Medication.objects.filter(slug=data["slug"]).first()
        if medication is None:
            medication = Medication(**data)
            medication.full_clean()
            medication.save()

        symptoms = Symptom.objects.in_bulk([s["slug"] for s in document["symptoms"]], field_name="slug")
        for data in document["symptoms"]:
            if data["slug"] not in symptoms:
                symptom = Symptom(**data)
                symptom.full_clean()
                symptom.save()
                symptoms[symptom.slug] = symptom

        data = document["article"]
        article, _ = Article.objects.get_or_create(
            slug=data["slug"], defaults={"medication": medication, "topic": data["topic"]}
        )
        article = Article.objects.select_for_update().get(pk=article.pk)
        content = document["revision"]
        revision = Revision.objects.create(
            article=article,
            number=_next_number(article),
            state=RevisionState.DRAFT,
            title=content["title"],
            summary=content["summary"],
            change_summary=content.get("change_summary", ""),
            created_by=actor,
        )
        write_revision_content(revision, content, symptoms)
    return revision


def revision_publish(*, revision: Revision, actor: AbstractBaseUser | None) -> Revision:
    """Make ``revision`` the live revision of its article.

    The previously live revision becomes superseded in the same transaction,
    so an article never has two live revisions (a database constraint holds
    this too). The content hash of what went live is recorded.
    """
    if actor is not None and not actor.has_perm("articles.publish_revision"):
        raise PermissionDenied("You may not publish revisions.")
    with transaction.atomic():
        Article.objects.select_for_update().get(pk=revision.article_id)
        revision = Revision.objects.select_for_update().get(pk=revision.pk)
        if revision.state not in (RevisionState.DRAFT, RevisionState.APPROVED):
            raise ValidationError(
                f"A {revision.get_state_display().lower()} revision cannot be published.", code="illegal_state"
            )
        Revision.objects.filter(article_id=revision.article_id, state=RevisionState.PUBLISHED).update(
            state=RevisionState.SUPERSEDED
        )
        revision.content_hash = content_hash(Revision.objects.with_content().get(pk=revision.pk))
        revision.state = RevisionState.PUBLISHED
        revision.published_at = timezone.now()
        revision.save(update_fields=["content_hash", "state", "published_at", "updated_at"])
    return revision
