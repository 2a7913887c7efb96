"""The data migration that brings stored text into its normal form, and what it leaves alone."""

from __future__ import annotations

import os
import unicodedata
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

from articles import services
from articles.interchange.export import content_hash
from articles.interchange.importer import normalise_document
from articles.models import (
    AuditAction,
    AuditEntry,
    ComparisonCell,
    ReviewKind,
    Revision,
    RevisionState,
    Section,
    Symptom,
)
from tests.conftest import pathway_document
from tests.factories import demo_document

pytestmark = pytest.mark.django_db

articles_migration = import_module("articles.migrations.0021_normalise_existing_text")
triage_migration = import_module("triage.migrations.0021_normalise_existing_text")


def migrate_text() -> None:
    articles_migration.normalise_existing_text(django_apps, None)
    triage_migration.normalise_existing_text(django_apps, None)


def full(revision: Revision) -> Revision:
    return Revision.objects.with_content().get(pk=revision.pk)


def migration_entries() -> list[AuditEntry]:
    return [entry for entry in AuditEntry.objects.order_by("pk") if entry.data.get("migration")]


LEGACY_BODY = "Typed in the old admin.\r\n\r\nSecond paragraph [@ref-1]."


def test_drafts_are_normalised_and_audited_while_reviewed_content_is_left_as_approved(workflow, author, reviewer):
    # Content saved before the fix: CRLF from browsers, NFD, a stray RLO; then reviewed and published as it was.
    published = workflow.draft()
    Section.objects.filter(revision=published, key="section-1").update(body=LEGACY_BODY)
    published = workflow.take_live(published)
    approved_hash = published.reviews.get(kind=ReviewKind.APPROVAL).content_hash
    assert content_hash(full(published)) == approved_hash

    draft = workflow.next_draft(published)
    Revision.objects.filter(pk=draft.pk).update(
        title="Title with\u202e an override", summary=unicodedata.normalize("NFD", "Résumé\r\n")
    )
    Section.objects.filter(revision=draft, key="section-2").update(heading="Two\r\nlines")
    ComparisonCell.objects.filter(row__table__revision=draft, row__key="row-1", column__key="col-1").update(
        text="escape\x1bhere"  # not NUL: PostgreSQL could never have stored that
    )
    Symptom.objects.filter(slug="testamol-symptom-1").update(description="Line one.\r\nLine two.\r\n")
    symptom_clock = Symptom.objects.get(slug="testamol-symptom-1").updated_at

    migrate_text()

    # The reviewed revision is byte for byte what was approved; its approval still holds.
    assert Section.objects.get(revision=published, key="section-1").body == LEGACY_BODY
    assert content_hash(full(published)) == approved_hash
    services.revision_confirm_review(revision=published, actor=reviewer)

    draft = Revision.objects.get(pk=draft.pk)
    assert draft.title == "Title with an override"
    assert draft.summary == "Résumé"
    assert Section.objects.get(revision=draft, key="section-1").body == LEGACY_BODY.replace("\r\n", "\n")
    assert Section.objects.get(revision=draft, key="section-2").heading == "Two lines"
    cell = ComparisonCell.objects.get(row__table__revision=draft, row__key="row-1", column__key="col-1")
    assert cell.text == "escapehere"
    assert Symptom.objects.get(slug="testamol-symptom-1").description == "Line one.\nLine two."
    # Shown on live pages: its clock moves, so cached pages and partners' copies renew.
    assert Symptom.objects.get(slug="testamol-symptom-1").updated_at > symptom_clock
    assert draft.lock_version == 1

    [entry] = migration_entries()
    assert entry.revision_id == draft.pk
    assert entry.actor is None
    assert entry.action == AuditAction.SAVE_DRAFT
    assert entry.data["changed"] == ["comparison_tables", "sections", "summary", "title"]
    assert entry.data["removed"] == ["U+001B", "U+202E"]
    assert "U+001B, U+202E" in entry.comment

    # The normalised draft goes through review like any other.
    draft.change_summary = "Second version."
    workflow.take_live(draft)

    migrate_text()  # a second run finds nothing to do
    assert len(migration_entries()) == 1


def test_pathway_drafts_are_normalised_too(published_article, author):
    from triage.interchange import PATHWAY_FORMAT
    from triage.models import Disposition

    draft = services.article_import(document=pathway_document(), actor=author, fmt=PATHWAY_FORMAT)
    Disposition.objects.filter(revision=draft).update(advice="Call now.\r\n\r\nDo not wait.\x07")
    migrate_text()
    assert set(Disposition.objects.filter(revision=draft).values_list("advice", flat=True)) == {
        "Call now.\n\nDo not wait."
    }
    [entry] = migration_entries()
    assert entry.data["changed"] == ["dispositions"]
    assert entry.data["removed"] == ["U+0007"]


def test_the_demo_content_is_already_in_normal_form():
    for document in (demo_document(), pathway_document()):
        normalised, problems = normalise_document(document)
        assert problems == []
        assert normalised == document


def test_the_migration_changes_nothing_in_the_demo_site(transactional_db, roles):
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    revisions = list(Revision.objects.all())
    assert revisions
    hashes = {revision.pk: content_hash(full(revision)) for revision in revisions}
    states = {revision.pk: (revision.state, revision.lock_version) for revision in revisions}
    migrate_text()
    assert migration_entries() == []
    for revision in Revision.objects.all():
        assert content_hash(full(revision)) == hashes[revision.pk]
        assert (revision.state, revision.lock_version) == states[revision.pk]
    assert Revision.objects.filter(state=RevisionState.PUBLISHED).exists()
