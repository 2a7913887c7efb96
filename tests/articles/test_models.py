"""Database constraints hold even when code bypasses the services."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import Article, Medication, Reference, Revision, RevisionState, Section, Symptom, SymptomEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    medication = Medication.objects.create(slug="testamol", generic_name="Testamol")
    return Article.objects.create(slug="testamol-effects", medication=medication)


def revision(article, number, state=RevisionState.DRAFT, **fields):
    published_at = timezone.now() if state == RevisionState.PUBLISHED else None
    return Revision.objects.create(
        article=article, number=number, state=state, title="T", summary="S", published_at=published_at, **fields
    )


def raises_integrity_error(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_at_most_one_live_revision_per_article(article):
    revision(article, 1, RevisionState.PUBLISHED)
    raises_integrity_error(lambda: revision(article, 2, RevisionState.PUBLISHED))
    revision(article, 3, RevisionState.SUPERSEDED)  # any number of non-live revisions
    revision(article, 4, RevisionState.DRAFT)


def test_at_most_one_open_draft_per_article(article):
    """Two editable revisions of one article would each overwrite the other when published."""
    first = revision(article, 1, RevisionState.DRAFT)
    raises_integrity_error(lambda: revision(article, 2, RevisionState.DRAFT))
    raises_integrity_error(lambda: revision(article, 2, RevisionState.CHANGES_REQUESTED))
    in_review = revision(article, 2, RevisionState.IN_REVIEW)  # frozen revisions do not count
    revision(article, 3, RevisionState.ARCHIVED)
    raises_integrity_error(
        lambda: Revision.objects.filter(pk=in_review.pk).update(state=RevisionState.CHANGES_REQUESTED)
    )
    other = Article.objects.create(slug="testamol-other", medication=article.medication)
    revision(other, 1, RevisionState.DRAFT)  # one open draft per article, not one in all
    Revision.objects.filter(pk=first.pk).update(state=RevisionState.ARCHIVED)
    revision(article, 4, RevisionState.CHANGES_REQUESTED)


def test_revision_numbers_are_unique_per_article(article):
    revision(article, 1)
    raises_integrity_error(lambda: revision(article, 1))


def test_state_must_be_a_known_state(article):
    raises_integrity_error(lambda: revision(article, 1, state="live-ish"))


def test_a_published_revision_has_a_publication_date(article):
    raises_integrity_error(
        lambda: Revision.objects.create(article=article, number=1, state=RevisionState.PUBLISHED, title="T")
    )


def test_row_keys_are_unique_within_a_revision_but_not_across(article):
    first, second = revision(article, 1), revision(article, 2, RevisionState.IN_REVIEW)
    Section.objects.create(revision=first, key="intro", position=1, heading="H", body="B")
    Section.objects.create(revision=second, key="intro", position=1, heading="H", body="B")
    raises_integrity_error(
        lambda: Section.objects.create(revision=first, key="intro", position=2, heading="H", body="B")
    )


def test_a_reference_without_identifier_must_be_marked_for_verification(article):
    draft = revision(article, 1)
    raises_integrity_error(
        lambda: Reference.objects.create(
            revision=draft, key="r", position=1, publication_type="journal_article", title="Study"
        )
    )
    Reference.objects.create(
        revision=draft,
        key="r",
        position=1,
        publication_type="journal_article",
        title="Study",
        needs_verification=True,
        verification_note="No identifier found.",
    )


def test_a_symptom_frequency_names_its_source(article):
    draft = revision(article, 1)
    symptom = Symptom.objects.create(slug="s", name="S", description="D")
    raises_integrity_error(
        lambda: SymptomEntry.objects.create(
            revision=draft, symptom=symptom, key="e", position=1, text="T", frequency_band="rare"
        )
    )


def test_published_history_cannot_be_deleted(article):
    revision(article, 1, RevisionState.PUBLISHED)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        article.delete()
