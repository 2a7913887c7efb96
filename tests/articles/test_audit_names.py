"""The audit log names each actor as they were named when they acted, whatever later happens to the account.

Renaming a staff account (user name, first or last name) or a reviewer's profile changes
what later entries say, never what earlier ones said.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from articles import services
from articles.models import AuditAction, AuditEntry
from tests.conftest import approve
from tests.factories import article_document
from tests.pages import page_text


def name(user: Any, first: str, last: str, *, username: str | None = None) -> None:
    user.first_name, user.last_name = first, last
    user.username = username or user.username
    user.save()


def rename_reviewer(reviewer: Any) -> None:
    """What an administrator does in the admin: a new user name and surname, and a new public profile."""
    name(reviewer, "Jane", "Smith", username="jane.smith")
    profile = reviewer.reviewer_profile
    profile.display_name, profile.credentials = "Dr Jane Smith", "MBBS, FRCP, consultant neurologist"
    profile.save()


@pytest.fixture
def renamed_after_publication(workflow: Any, author: Any, reviewer: Any, publisher: Any) -> Any:
    """Approved by Dr Jane Doe (account 'reviewer'), published; then the account and profile are renamed."""
    name(author, "Asha", "Patel")
    name(reviewer, "Jane", "Doe")
    name(publisher, "Mel", "Jones")
    live = workflow.live()
    rename_reviewer(reviewer)
    return live


def test_each_entry_records_the_actors_name_and_user_name_as_they_were_then(renamed_after_publication):
    entries = {
        entry.action: (entry.actor_name, entry.actor_username)
        for entry in AuditEntry.objects.filter(revision=renamed_after_publication)
    }
    assert entries[AuditAction.SUBMIT] == ("Asha Patel", "author")
    assert entries[AuditAction.APPROVE] == ("Jane Doe", "reviewer")
    assert entries[AuditAction.PUBLISH] == ("Mel Jones", "publisher")


def test_an_entry_by_someone_without_a_full_name_records_their_user_name(workflow):
    draft = workflow.draft()
    entry = AuditEntry.objects.get(revision=draft, action=AuditAction.CREATE_DRAFT)
    assert (entry.actor_name, entry.actor_username) == ("author", "author")


def test_an_entry_by_the_system_names_nobody(roles):
    imported = services.article_import(document=article_document(), actor=None)  # an operator's command
    entry = AuditEntry.objects.get(revision=imported)
    assert (entry.actor, entry.actor_name, entry.actor_username) == (None, "", "")


def test_an_approval_records_the_name_and_credentials_the_reviewer_signed_with(renamed_after_publication):
    entry = AuditEntry.objects.get(revision=renamed_after_publication, action=AuditAction.APPROVE)
    assert entry.data["reviewer"] == {
        "name": "Dr Reviewer",
        "credentials": "MBBS, MRCP, test physician",
        "is_demonstration": False,
    }


def test_a_confirmation_records_the_name_and_credentials_the_reviewer_signed_with(published_article, reviewer):
    services.revision_confirm_review(revision=published_article, actor=reviewer)
    rename_reviewer(reviewer)
    entry = AuditEntry.objects.get(revision=published_article, action=AuditAction.CONFIRM_REVIEW)
    assert (entry.actor_name, entry.actor_username) == ("reviewer", "reviewer")
    assert entry.data["reviewer"] == {
        "name": "Dr Reviewer",
        "credentials": "MBBS, MRCP, test physician",
        "is_demonstration": False,
    }


def test_the_admins_audit_views_name_actors_as_they_were_then(client, admin_user_account, renamed_after_publication):
    """The audit list, the article's page and the revision's page, as an auditor reads them after the rename."""
    live = renamed_after_publication
    client.force_login(admin_user_account)
    pages = {
        "audit list": reverse("admin:articles_auditentry_changelist"),
        "article": reverse("admin:articles_article_change", args=[live.article_id]),
        "revision": reverse("admin:articles_revision_change", args=[live.pk]),
    }
    for page, url in pages.items():
        text = page_text(client.get(url).content.decode())
        assert "Jane Doe" in text, page
        assert "jane.smith" not in text, page
        assert "Jane Smith" not in text, page


def test_the_audit_list_finds_an_actor_by_the_name_they_had_then(client, admin_user_account, renamed_after_publication):
    client.force_login(admin_user_account)
    url = reverse("admin:articles_auditentry_changelist")
    text = page_text(client.get(url, {"q": "Jane Doe"}).content.decode())
    assert "1 audit entry" in text


def test_the_changes_requested_heading_names_the_reviewer_as_they_were_then(
    client, admin_user_account, workflow, author, reviewer
):
    name(reviewer, "Jane", "Doe")
    draft = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    services.revision_request_changes(revision=draft, actor=reviewer, comment="Cite the label.")
    rename_reviewer(reviewer)
    client.force_login(admin_user_account)
    text = page_text(client.get(reverse("admin:articles_revision_change", args=[draft.pk])).content.decode())
    assert "Changes requested by Jane Doe" in text
    assert "Jane Smith" not in text


def test_later_entries_name_the_account_as_it_is_named_now(renamed_after_publication, workflow, reviewer, author):
    draft = services.revision_submit(
        revision=workflow.next_draft(renamed_after_publication), actor=author, change_summary="Second."
    )
    approve(draft, reviewer)
    entry = AuditEntry.objects.get(revision=draft, action=AuditAction.APPROVE)
    assert (entry.actor_name, entry.actor_username) == ("Jane Smith", "jane.smith")
    assert entry.data["reviewer"]["name"] == "Dr Jane Smith"


def test_a_vocabulary_change_is_audited_on_each_article_with_the_actors_names(workflow, reviewer):
    """Merging helper h1's set-wise vocabulary audit (one INSERT ... SELECT) with helper h3's names: each entry of a
    rename, one per article showing the medication, names the reviewer as they were then."""
    name(reviewer, "Jane", "Doe")
    first = workflow.live(slug="named-first", medication="namedamol")
    second = workflow.live(slug="named-second", medication="namedamol")
    services.medication_update(
        medication=first.article.medication,
        actor=reviewer,
        changes={"generic_name": "Namedamol sodium"},
        reason="Salt.",
    )
    rename_reviewer(reviewer)
    entries = AuditEntry.objects.vocabulary_changes().filter(article__in=[first.article, second.article])
    assert sorted((entry.article_id, entry.actor_name, entry.actor_username) for entry in entries) == sorted(
        [(first.article_id, "Jane Doe", "reviewer"), (second.article_id, "Jane Doe", "reviewer")]
    )
