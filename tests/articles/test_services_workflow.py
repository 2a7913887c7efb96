"""The review workflow: every transition, legal and illegal, for every role."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from articles import services
from articles.interchange.export import revision_content
from articles.models import (
    AuditAction,
    AuditEntry,
    ClinicalReview,
    ReviewComment,
    Revision,
    RevisionState,
    Section,
)
from tests.conftest import approve, make_user
from tests.factories import article_document

pytestmark = pytest.mark.django_db

REFUSED = (PermissionDenied, ValidationError)


def snapshot(revision: Revision) -> tuple[Any, ...]:
    revision = Revision.objects.get(pk=revision.pk)
    return (
        revision.state,
        revision.lock_version,
        revision.title,
        Revision.objects.count(),
        AuditEntry.objects.count(),
        ClinicalReview.objects.count(),
        ReviewComment.objects.count(),
        list(Section.objects.filter(revision=revision).values_list("body", flat=True)),
    )


# --- Every role against every transition --------------------------------------------


def start_in(state: str, workflow: Any, author: Any, reviewer: Any, publisher: Any) -> Revision:
    """A revision of a fresh article in ``state``, reached through the services."""
    draft = workflow.draft(slug=f"article-{state}".replace("_", "-"), medication=f"med{state.replace('_', '')}")
    if state == RevisionState.DRAFT:
        return draft
    revision = services.revision_submit(revision=draft, actor=author, change_summary="First version.")
    if state == RevisionState.IN_REVIEW:
        return revision
    revision = approve(revision, reviewer)
    if state == RevisionState.APPROVED:
        return revision
    if state == RevisionState.SCHEDULED:
        return services.revision_publish(
            revision=revision, actor=publisher, publish_at=timezone.now() + datetime.timedelta(days=1)
        )
    return services.revision_publish(revision=revision, actor=publisher)


def save_draft(revision: Revision, actor: Any) -> Any:
    content = revision_content(Revision.objects.with_content().get(pk=revision.pk))
    content["title"] = "Edited title"
    return services.revision_update_content(
        revision=revision, actor=actor, expected_lock_version=revision.lock_version, content=content
    )


TRANSITIONS = {
    # name: (starting state, call, roles allowed)
    "create_draft": (
        RevisionState.PUBLISHED,
        lambda r, a: services.revision_create_draft(article=r.article, actor=a, based_on=r),
        {"author"},
    ),
    "save_draft": (RevisionState.DRAFT, save_draft, {"author"}),
    "submit": (
        RevisionState.DRAFT,
        lambda r, a: services.revision_submit(revision=r, actor=a, change_summary="Changed."),
        {"author"},
    ),
    "archive": (
        RevisionState.DRAFT,
        lambda r, a: services.revision_archive(revision=r, actor=a),
        {"author", "publisher"},
    ),
    "request_changes": (
        RevisionState.IN_REVIEW,
        lambda r, a: services.revision_request_changes(revision=r, actor=a, comment="Please cite the label."),
        {"reviewer"},
    ),
    "approve": (RevisionState.IN_REVIEW, lambda r, a: approve(r, a), {"reviewer"}),
    "publish": (RevisionState.APPROVED, lambda r, a: services.revision_publish(revision=r, actor=a), {"publisher"}),
    "schedule": (
        RevisionState.APPROVED,
        lambda r, a: services.revision_publish(
            revision=r, actor=a, publish_at=timezone.now() + datetime.timedelta(hours=2)
        ),
        {"publisher"},
    ),
    "unschedule": (
        RevisionState.SCHEDULED,
        lambda r, a: services.revision_unschedule(revision=r, actor=a),
        {"publisher"},
    ),
    "withdraw": (
        RevisionState.PUBLISHED,
        lambda r, a: services.revision_withdraw(revision=r, actor=a, reason="Superseded by national guidance."),
        {"publisher"},
    ),
    "confirm_review": (
        RevisionState.PUBLISHED,
        lambda r, a: services.revision_confirm_review(revision=r, actor=a),
        {"reviewer"},
    ),
    "comment": (
        RevisionState.IN_REVIEW,
        lambda r, a: services.revision_comment(revision=r, actor=a, body="Looks right."),
        {"author", "reviewer", "publisher"},
    ),
}
ROLES = ["anonymous", "no_role", "author", "reviewer", "publisher"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("transition", list(TRANSITIONS))
def test_every_role_against_every_transition(transition, role, workflow, author, reviewer, publisher):
    state, call, allowed = TRANSITIONS[transition]
    revision = start_in(state, workflow, author, reviewer, publisher)
    actors = {
        "anonymous": AnonymousUser(),
        "no_role": make_user("staff-without-role"),
        "author": author,
        "reviewer": reviewer,
        "publisher": publisher,
    }
    before = snapshot(revision)
    if role in allowed:
        call(revision, actors[role])
        assert snapshot(revision) != before
        entry = AuditEntry.objects.order_by("pk").last()
        assert entry.actor == actors[role]
    else:
        with pytest.raises(PermissionDenied):
            call(revision, actors[role])
        assert snapshot(revision) == before


@pytest.mark.parametrize("transition", [name for name in TRANSITIONS if name not in {"create_draft", "comment"}])
def test_transitions_from_an_archived_revision_are_refused(transition, workflow, author, reviewer, publisher):
    _, call, allowed = TRANSITIONS[transition]
    wrong = RevisionState.ARCHIVED
    revision = workflow.draft(slug="archived", medication="archivamol")
    services.revision_archive(revision=revision, actor=author)
    actor = {"author": author, "reviewer": reviewer, "publisher": publisher}[sorted(allowed)[0]]
    before = snapshot(revision)
    with pytest.raises(ValidationError, match="Only a revision that is"):
        call(Revision.objects.get(pk=revision.pk), actor)
    assert snapshot(revision) == before
    assert Revision.objects.get(pk=revision.pk).state == wrong


# --- Four eyes -----------------------------------------------------------------------


def test_four_eyes_for_someone_who_is_both_author_and_reviewer(author_reviewer, reviewer, publisher):
    draft = services.article_import(document=article_document(), actor=author_reviewer)
    revision = services.revision_submit(revision=draft, actor=author_reviewer, change_summary="First.")
    before = snapshot(revision)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        approve(revision, author_reviewer)
    assert snapshot(revision) == before
    assert "approve" not in services.available_transitions(revision=revision, actor=author_reviewer)
    assert approve(revision, reviewer).state == RevisionState.APPROVED


def test_four_eyes_covers_editing_someone_elses_draft(author, author_reviewer, reviewer, publisher):
    draft = services.article_import(document=article_document(), actor=author)
    save_draft(draft, author_reviewer)
    revision = services.revision_submit(revision=draft, actor=author, change_summary="First.")
    with pytest.raises(PermissionDenied, match="Four eyes"):
        approve(revision, author_reviewer)


def test_a_save_that_changes_nothing_is_no_edit(author, author_reviewer, reviewer):
    """Found from outside: a reviewer who opened a draft and pressed Save without changing anything became one of
    its writers (four eyes then kept them from approving it), moved its version on (the author's next real save
    was refused as stale) and left a "saved" audit entry listing no change."""
    from articles.models import AuditEntry

    draft = services.article_import(document=article_document(), actor=author)
    entries = AuditEntry.objects.filter(revision=draft).count()
    applied = []

    saved = services.revision_save_draft(
        revision=draft, actor=author_reviewer, expected_lock_version=draft.lock_version, apply=lambda: applied.append(1)
    )

    assert saved.lock_version == draft.lock_version
    assert applied == []
    assert AuditEntry.objects.filter(revision=draft).count() == entries
    save_draft(draft, author)  # the author's version is still current
    revision = services.revision_submit(revision=draft, actor=author, change_summary="First.")
    assert approve(revision, author_reviewer).state == RevisionState.APPROVED


def test_four_eyes_covers_the_unapproved_draft_a_revision_was_copied_from(author, author_reviewer, reviewer):
    """A edits draft 1; B sets it aside, copies it into draft 2 and submits that; A may not approve draft 2."""
    first = services.article_import(document=article_document(), actor=author)
    save_draft(first, author_reviewer)  # A's words are in draft 1, which nobody has approved
    services.revision_archive(revision=first, actor=author)  # one open draft per article
    copy = services.revision_create_draft(article=first.article, actor=author, based_on=first)
    copy = services.revision_submit(revision=copy, actor=author, change_summary="Copied and submitted by B.")
    before = snapshot(copy)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        approve(copy, author_reviewer)
    assert snapshot(copy) == before
    assert "approve" not in services.available_transitions(revision=copy, actor=author_reviewer)
    # ... and a copy of that copy still carries A's words.
    services.revision_request_changes(revision=copy, actor=reviewer, comment="One more pass.")
    services.revision_archive(revision=copy, actor=author)
    grandchild = services.revision_create_draft(article=first.article, actor=author, based_on=copy)
    grandchild = services.revision_submit(revision=grandchild, actor=author, change_summary="Again.")
    with pytest.raises(PermissionDenied, match="Four eyes"):
        approve(grandchild, author_reviewer)
    assert approve(grandchild, reviewer).state == RevisionState.APPROVED


def test_four_eyes_ends_at_an_approved_ancestor(author, author_reviewer, reviewer, publisher):
    """Content another reviewer approved is no longer A's to vouch for or against: A may review a copy of it."""
    first = services.article_import(document=article_document(), actor=author_reviewer)
    first = services.revision_submit(revision=first, actor=author_reviewer, change_summary="First.")
    live = services.revision_publish(revision=approve(first, reviewer), actor=publisher)
    copy = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    save_draft(copy, author)
    copy = services.revision_submit(revision=copy, actor=author, change_summary="Second.")
    assert approve(copy, author_reviewer).state == RevisionState.APPROVED


def test_four_eyes_for_confirming_a_live_revision(author_reviewer, reviewer, publisher):
    draft = services.article_import(document=article_document(), actor=author_reviewer)
    revision = services.revision_submit(revision=draft, actor=author_reviewer, change_summary="First.")
    live = services.revision_publish(revision=approve(revision, reviewer), actor=publisher)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        services.revision_confirm_review(revision=live, actor=author_reviewer)


def test_a_reviewer_needs_a_complete_profile(workflow, author):
    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    incomplete = make_user("new-reviewer", "Clinical reviewers")
    with pytest.raises(PermissionDenied, match="Complete your reviewer profile"):
        approve(revision, incomplete)


# --- Approvals bind to content ------------------------------------------------------


def test_content_changed_after_approval_cannot_go_live(workflow, author, reviewer, publisher):
    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    revision = approve(revision, reviewer)
    # Someone bypasses the services and edits the frozen content directly.
    Section.objects.filter(revision=revision, key="section-1").update(body="Take twice the dose.")
    with pytest.raises(ValidationError, match="has changed since it was approved"):
        services.revision_publish(revision=revision, actor=publisher)
    assert Revision.objects.get(pk=revision.pk).state == RevisionState.APPROVED
    assert not Revision.objects.published().exists()


def test_content_changed_after_submission_cannot_be_approved(workflow, author, reviewer):
    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    Section.objects.filter(revision=revision, key="section-1").update(body="Changed behind the reviewer's back.")
    with pytest.raises(ValidationError, match="has changed since it was submitted"):
        approve(revision, reviewer)


def test_an_approval_of_content_the_reviewer_did_not_read_is_refused(workflow, author, reviewer, roles):
    """Found in two browser sessions: a reviewer's page opened before the revision was sent back, changed and
    resubmitted approved the new words, which they never saw, under their name."""
    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    read = revision.content_hash  # what the reviewer's page showed
    other = make_user("other-reviewer", "Clinical reviewers", profile=True)
    services.revision_request_changes(revision=revision, actor=other, comment="Reword section 1.")
    content = revision_content(Revision.objects.with_content().get(pk=revision.pk))
    content["sections"][0]["body"] = "New words [@ref-1]."
    revision = services.revision_update_content(
        revision=revision, actor=author, expected_lock_version=revision.lock_version, content=content
    )
    revision = services.revision_submit(revision=revision, actor=author, change_summary="Reworded.")
    assert revision.content_hash != read

    for seen in (read, "", "0" * 64):
        with pytest.raises(ValidationError, match="has changed since you opened it") as refused:
            approve(revision, reviewer, content_hash_seen=seen)
        assert refused.value.error_list[0].code == "content_changed"
    assert Revision.objects.get(pk=revision.pk).state == RevisionState.IN_REVIEW
    assert not ClinicalReview.objects.filter(revision=revision).exists()
    approve(revision, reviewer, content_hash_seen=revision.content_hash)
    assert ClinicalReview.objects.get(revision=revision).content_hash == revision.content_hash


def test_the_approval_records_hash_dates_and_acknowledged_warnings(workflow, author, reviewer):
    document = article_document()
    document["revision"]["references"][0].update(doi="", needs_verification=True, verification_note="No DOI found.")
    revision = services.revision_submit(revision=workflow.draft(document), actor=author, change_summary="First.")
    with pytest.raises(ValidationError, match="Acknowledge this warning"):
        services.revision_approve(revision=revision, actor=reviewer, content_hash_seen=revision.content_hash)
    approve(revision, reviewer)
    review = ClinicalReview.objects.get(revision=revision)
    assert review.content_hash == Revision.objects.get(pk=revision.pk).content_hash
    assert review.reviewer_name == "Dr Reviewer"
    assert review.reviewer_credentials == "MBBS, MRCP, test physician"
    assert review.next_review_due == services._add_months(timezone.localdate(), 12)
    assert [w["code"] for w in review.acknowledged_warnings] == ["unverified_reference:ref-1"]


def test_next_review_date_defaults_to_a_year_and_is_at_most_three(workflow, author, reviewer):
    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="within 3 years"):
        approve(revision, reviewer, next_review_due=today.replace(year=today.year + 3) + datetime.timedelta(days=2))
    with pytest.raises(ValidationError, match="after the review date"):
        approve(revision, reviewer, next_review_due=today)
    approve(revision, reviewer, next_review_due=today + datetime.timedelta(days=90))
    assert ClinicalReview.objects.get().next_review_due == today + datetime.timedelta(days=90)


def test_add_months_keeps_the_day_or_falls_back_to_the_months_end():
    assert services._add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert services._add_months(datetime.date(2028, 2, 29), 12) == datetime.date(2029, 2, 28)
    assert services._add_months(datetime.date(2026, 11, 26), 12) == datetime.date(2027, 11, 26)


def test_confirming_a_live_revision_restarts_the_review_clock(workflow, reviewer):
    live = workflow.live()
    second = make_user("second-reviewer", "Clinical reviewers", profile=True)
    ClinicalReview.objects.filter(revision=live).update(
        next_review_due=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert list(Revision.objects.overdue_for_review()) == [live]
    review = services.revision_confirm_review(revision=live, actor=second, comment="Checked against the label.")
    assert review.kind == "confirmation"
    assert not Revision.objects.overdue_for_review().exists()
    entry = AuditEntry.objects.last()
    assert (entry.action, entry.actor, entry.comment) == (
        AuditAction.CONFIRM_REVIEW,
        second,
        "Checked against the label.",
    )


# --- Content checks -------------------------------------------------------------------


def test_submission_runs_the_blocking_checks(workflow, author):
    document = article_document(references=2)
    document["revision"]["sections"][1]["body"] = "No citation here."  # ref-2 is now never cited
    document["revision"]["comparison_tables"][0]["rows"] = []
    draft = workflow.draft(document)
    with pytest.raises(ValidationError) as caught:
        services.revision_submit(revision=draft, actor=author, change_summary="First.")
    assert caught.value.messages == [
        "Reference “ref-2” is never cited. (reference ref-2)",
        "The table “A comparison” has no columns, rows or text. (table table-1)",
    ]
    assert Revision.objects.get(pk=draft.pk).state == RevisionState.DRAFT


def test_submission_needs_a_change_summary_and_sections(workflow, author):
    document = article_document(sections=0, references=0)
    document["revision"]["comparison_tables"] = []
    document["revision"]["change_summary"] = ""
    draft = workflow.draft(document)
    with pytest.raises(ValidationError, match="change summary"):
        services.revision_submit(revision=draft, actor=author)
    with pytest.raises(ValidationError, match="no sections"):
        services.revision_submit(revision=draft, actor=author, change_summary="First.")


# --- Drafts, optimistic locking, revert ----------------------------------------------


def test_two_saves_from_the_same_starting_copy(workflow, author, second_author):
    draft = workflow.draft()
    started_from = draft.lock_version
    mine = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    theirs = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    mine["sections"][0]["body"] = "My careful edit."
    theirs["sections"][0]["body"] = "Their conflicting edit."
    services.revision_update_content(revision=draft, actor=author, expected_lock_version=started_from, content=mine)
    with pytest.raises(ValidationError, match="Someone else saved this draft after you opened it"):
        services.revision_update_content(
            revision=draft, actor=second_author, expected_lock_version=started_from, content=theirs
        )
    saved = Revision.objects.with_content().get(pk=draft.pk)
    assert saved.sections.all()[0].body == "My careful edit."
    assert saved.lock_version == started_from + 1
    assert AuditEntry.objects.filter(revision=draft, action=AuditAction.SAVE_DRAFT).count() == 1


def test_invalid_content_changes_nothing(workflow, author):
    draft = workflow.draft()
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["sections"][0]["body"] = "Cites [@nobody]."
    before = snapshot(draft)
    from articles.interchange.importer import ImportRejected

    with pytest.raises(ImportRejected, match=r"revision.sections\[0\].body: cites \[@nobody\]"):
        services.revision_update_content(revision=draft, actor=author, expected_lock_version=0, content=content)
    assert snapshot(draft) == before


def test_submitted_content_is_frozen(workflow, author):
    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    before = snapshot(revision)
    with pytest.raises(ValidationError, match="can be edited"):
        save_draft(Revision.objects.get(pk=revision.pk), author)
    assert snapshot(revision) == before


def test_changes_requested_go_back_to_the_author(workflow, author, reviewer):
    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    with pytest.raises(ValidationError, match="Say what needs to change"):
        services.revision_request_changes(revision=revision, actor=reviewer, comment="  ")
    services.revision_request_changes(revision=revision, actor=reviewer, comment="Cite the product label.")
    revision = Revision.objects.get(pk=revision.pk)
    assert revision.state == RevisionState.CHANGES_REQUESTED
    assert ReviewComment.objects.get(revision=revision).body == "Cite the product label."
    save_draft(revision, author)
    revision = services.revision_submit(revision=Revision.objects.get(pk=revision.pk), actor=author)
    assert revision.state == RevisionState.IN_REVIEW


def test_revert_copies_an_old_revision_into_a_new_draft(workflow, author):
    first = workflow.live()
    second_draft = workflow.next_draft(first)
    content = revision_content(Revision.objects.with_content().get(pk=second_draft.pk))
    content["sections"][0]["body"] = "A second version [@ref-1]."
    services.revision_update_content(revision=second_draft, actor=author, expected_lock_version=0, content=content)
    workflow.take_live(Revision.objects.get(pk=second_draft.pk))
    restored = services.revision_create_draft(article=first.article, actor=author, based_on=first)
    old = revision_content(Revision.objects.with_content().get(pk=first.pk))
    new = revision_content(Revision.objects.with_content().get(pk=restored.pk))
    # The words come back; the change summary is the new draft's own, to be written on submission.
    assert {**new, "change_summary": "First version."} == old
    assert new["change_summary"] == ""
    assert (restored.number, restored.based_on_id) == (3, first.pk)


# --- One open draft per article ------------------------------------------------------


def open_draft_of(live: Revision, state: str, author: Any, reviewer: Any) -> Revision:
    """A draft of ``live``'s article, open for editing in ``state`` (a draft, or sent back for changes)."""
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    if state == RevisionState.CHANGES_REQUESTED:
        services.revision_submit(revision=draft, actor=author, change_summary="Second.")
        services.revision_request_changes(revision=draft, actor=reviewer, comment="Cite the label.")
    return Revision.objects.get(pk=draft.pk)


def everything(article_id: int) -> tuple[Any, ...]:
    """What a refused draft must leave as it was: the revisions, their audit trail, the admin's log."""
    from django.contrib.admin.models import LogEntry

    return (
        list(Revision.objects.order_by("pk").values_list("pk", "number", "state", "lock_version")),
        list(AuditEntry.objects.order_by("pk").values_list("pk", flat=True)),
        LogEntry.objects.count(),
        Section.objects.count(),
    )


SECOND_DRAFT = {
    "copy": lambda live, actor: services.revision_create_draft(article=live.article, actor=actor, based_on=live),
    "empty": lambda live, actor: services.revision_create_draft(article=live.article, actor=actor),
    "transition": lambda live, actor: services.TRANSITIONS["create_draft"].service(revision=live, actor=actor),
    "import": lambda live, actor: services.article_import(
        document=article_document(slug=live.article.slug), actor=actor
    ),
}


@pytest.mark.parametrize("open_state", [RevisionState.DRAFT, RevisionState.CHANGES_REQUESTED])
@pytest.mark.parametrize("how", list(SECOND_DRAFT))
def test_no_second_draft_while_one_is_open(how, open_state, workflow, author, reviewer):
    """Two open drafts of one article would each overwrite the other when published: the second is refused."""
    live = workflow.live()
    draft = open_draft_of(live, open_state, author, reviewer)
    before = everything(live.article_id)
    with pytest.raises(ValidationError) as refused:
        SECOND_DRAFT[how](live, author)
    assert refused.value.code == "open_draft"
    assert refused.value.messages == [
        f"No new draft started: revision {draft.number} of {live.article.slug} is already open "
        f"({draft.get_state_display().lower()}). Edit it, or archive it before starting another."
    ]
    assert refused.value.draft == draft  # the admin links to it
    assert everything(live.article_id) == before
    # The open draft itself cannot be copied into a second one either.
    with pytest.raises(ValidationError, match="already open"):
        services.TRANSITIONS["create_draft"].service(revision=draft, actor=author)
    assert everything(live.article_id) == before


@pytest.mark.parametrize("set_aside", ["archive", "submit"])
def test_a_new_draft_may_start_once_the_open_one_is_archived_or_submitted(set_aside, workflow, author):
    live = workflow.live()
    draft = workflow.next_draft(live)
    assert "create_draft" not in services.available_transitions(revision=live, actor=author)
    if set_aside == "archive":
        services.revision_archive(revision=draft, actor=author)
    else:
        services.revision_submit(revision=draft, actor=author, change_summary="Second.")
    assert "create_draft" in services.available_transitions(revision=live, actor=author)
    assert workflow.next_draft(live).number == 3


def test_a_second_draft_the_check_missed_is_refused_by_the_database_the_same_way(workflow, author, monkeypatch):
    """The article's lock keeps the check and the insert together; should a writer ever get between them, the
    database's constraint refuses the second draft, and the service says so as it would have."""
    live = workflow.live()
    draft = workflow.next_draft(live)
    before = everything(live.article_id)
    check, calls = services._open_draft_refusal, []

    def missed_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return None if len(calls) == 1 else check(*args, **kwargs)

    monkeypatch.setattr(services, "_open_draft_refusal", missed_once)
    with pytest.raises(ValidationError) as refused:
        services.revision_create_draft(article=live.article, actor=author, based_on=live)
    assert (refused.value.code, refused.value.draft) == ("open_draft", draft)
    assert len(calls) == 2
    assert everything(live.article_id) == before


def test_changes_are_not_requested_while_another_draft_is_open(workflow, author, reviewer):
    """Sending a revision back reopens it for editing: not while a later draft of the article is open."""
    live = workflow.live()
    in_review = services.revision_submit(revision=workflow.next_draft(live), actor=author, change_summary="Second.")
    later = workflow.next_draft(live)
    assert "request_changes" not in services.available_transitions(revision=in_review, actor=reviewer)
    before = everything(live.article_id)
    with pytest.raises(ValidationError) as refused:
        services.revision_request_changes(revision=in_review, actor=reviewer, comment="Cite the label.")
    assert refused.value.code == "open_draft"
    assert refused.value.draft == later
    assert everything(live.article_id) == before
    services.revision_archive(revision=later, actor=author)
    services.revision_request_changes(revision=in_review, actor=reviewer, comment="Cite the label.")
    assert Revision.objects.get(pk=in_review.pk).state == RevisionState.CHANGES_REQUESTED


def test_the_import_command_says_an_article_has_an_open_draft(workflow, tmp_path):
    from django.core.management.base import CommandError

    from tests.factories import as_bytes

    live = workflow.live()
    draft = workflow.next_draft(live)
    path = tmp_path / "article.json"
    path.write_bytes(as_bytes(article_document(slug=live.article.slug)))
    with pytest.raises(CommandError, match=f"revision {draft.number} of {live.article.slug} is already open"):
        call_command("import_article", str(path), "--author", "author")
    assert Revision.objects.filter(article=live.article).count() == 2


# --- Publishing, scheduling, withdrawal ----------------------------------------------


def test_publishing_supersedes_the_live_revision(workflow):
    first = workflow.live()
    second = workflow.take_live(workflow.next_draft(first))
    assert Revision.objects.get(pk=first.pk).state == RevisionState.SUPERSEDED
    assert list(Revision.objects.published()) == [second]
    assert list(Revision.objects.ever_published().order_by("number")) == [Revision.objects.get(pk=first.pk), second]


def test_a_scheduled_publication_goes_live_at_its_time_without_the_command(workflow, client, clock):
    first = workflow.live(slug="scheduled-article")
    soon = timezone.now() + datetime.timedelta(hours=1)
    draft = workflow.next_draft(first)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["title"] = "The scheduled version"
    services.revision_update_content(revision=draft, actor=draft.created_by, expected_lock_version=0, content=content)
    scheduled = workflow.take_live(Revision.objects.get(pk=draft.pk), publish_at=soon)
    assert scheduled.state == RevisionState.SCHEDULED
    assert "The scheduled version" not in client.get("/articles/scheduled-article/").content.decode()

    # Time passes: the publication time is now in the past. No command has run.
    clock.advance(datetime.timedelta(hours=1, seconds=1))
    assert "The scheduled version" in client.get("/articles/scheduled-article/").content.decode()
    assert list(Revision.objects.published()) == [Revision.objects.get(pk=scheduled.pk)]
    assert Revision.objects.get(pk=scheduled.pk).state == RevisionState.SCHEDULED  # not yet recorded

    entries = AuditEntry.objects.count()
    call_command("publish_scheduled", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Revision.objects.get(pk=scheduled.pk).state == RevisionState.PUBLISHED
    assert Revision.objects.get(pk=first.pk).state == RevisionState.SUPERSEDED
    recorded = list(AuditEntry.objects.filter(pk__gt=0).order_by("pk")[entries:].values_list("action", "actor"))
    assert recorded == [(AuditAction.SUPERSEDE, None), (AuditAction.PUBLISH, None)]

    # A second run changes nothing.
    before = (AuditEntry.objects.count(), list(Revision.objects.values_list("pk", "state", "published_at")))
    assert services.revisions_publish_due() == []
    assert (AuditEntry.objects.count(), list(Revision.objects.values_list("pk", "state", "published_at"))) == before


def test_a_scheduled_publication_recorded_later_says_in_the_audit_log_when_it_went_live_and_with_what(
    workflow, publisher, clock, settings
):
    """Found as an auditor reading the admin's audit log after ``publish_scheduled`` ran hours late: the entries
    said "Published at its scheduled time." and "Replaced by revision 2 at its scheduled time." at the time of
    recording, with neither that time nor the content hash that went live (a publication by hand records the hash),
    while the change feed and the history dated it hours earlier. Each entry now says when readers were first shown
    the change (comment, in the site's zone, and ``data``) and the publication which content went live."""
    settings.TIME_ZONE = "Europe/Paris"
    first = workflow.live(slug="scheduled-audit")
    at = (timezone.now() + datetime.timedelta(hours=1)).replace(microsecond=0)
    scheduled = workflow.take_live(workflow.next_draft(first), publish_at=at)
    approval = ClinicalReview.objects.get(revision=scheduled)
    clock.advance(datetime.timedelta(hours=5))
    call_command("publish_scheduled", stdout=open("/dev/null", "w"))  # noqa: SIM115

    said = f"{timezone.localtime(at):%d %B %Y %H:%M:%S %Z}"
    superseded = AuditEntry.objects.get(revision=first, action=AuditAction.SUPERSEDE)
    published = AuditEntry.objects.get(revision=scheduled, action=AuditAction.PUBLISH)
    assert said in superseded.comment and said in published.comment
    assert superseded.data["occurred_at"] == published.data["occurred_at"] == at.isoformat()
    assert published.data["content_hash"] == approval.content_hash == scheduled.content_hash
    # As a publication by hand records it.
    by_hand = AuditEntry.objects.get(revision=first, action=AuditAction.PUBLISH)
    assert by_hand.data["content_hash"] == first.content_hash


def test_a_revision_started_before_another_went_live_cannot_take_back_its_changes(
    workflow, author, reviewer, publisher
):
    """Found in the admin with two people at work: a correction started from the live revision and published while
    an older update waited, approved, for its publisher was silently taken back when that update was published
    (nothing said so; readers lost the correction)."""
    first = workflow.live()
    waiting = services.revision_submit(revision=workflow.next_draft(first), actor=author, change_summary="Routine.")
    waiting = approve(waiting, reviewer)
    correction = workflow.next_draft(first)
    content = revision_content(Revision.objects.with_content().get(pk=correction.pk))
    content["title"] = "The corrected version"
    services.revision_update_content(revision=correction, actor=author, expected_lock_version=0, content=content)
    correction = workflow.take_live(Revision.objects.get(pk=correction.pk))

    for publish_at in (None, timezone.now() + datetime.timedelta(days=1)):
        with pytest.raises(ValidationError, match="went live after revision 2 was started") as refused:
            services.revision_publish(revision=waiting, actor=publisher, publish_at=publish_at)
        assert refused.value.error_list[0].code == "behind_the_live_revision"
    assert list(Revision.objects.published()) == [correction]
    assert Revision.objects.get(pk=waiting.pk).state == RevisionState.APPROVED

    # Going back to it on purpose is a new draft copied from it, reviewed again.
    again = services.revision_create_draft(article=first.article, actor=author, based_on=waiting)
    again = workflow.take_live(again)
    assert list(Revision.objects.published()) == [again]


def test_a_revision_copied_from_one_that_went_live_later_can_follow_it(workflow, author, reviewer, publisher, clock):
    first = workflow.live()
    scheduled = workflow.take_live(workflow.next_draft(first), publish_at=timezone.now() + datetime.timedelta(hours=1))
    follower = services.revision_create_draft(article=first.article, actor=author, based_on=scheduled)
    follower = approve(services.revision_submit(revision=follower, actor=author, change_summary="Next."), reviewer)
    clock.advance(datetime.timedelta(hours=1, seconds=1))  # the scheduled one goes live after the copy was started
    assert services.revision_publish(revision=follower, actor=publisher).state == RevisionState.PUBLISHED


def test_only_one_scheduled_publication_per_article(workflow, publisher):
    first = workflow.live()
    later = timezone.now() + datetime.timedelta(days=2)
    workflow.take_live(workflow.next_draft(first), publish_at=later)
    third = workflow.next_draft(first)
    third = services.revision_submit(revision=third, actor=third.created_by, change_summary="Third.")
    third = approve(third, Revision.objects.get(number=2, article=first.article).reviews.get().reviewer)
    with pytest.raises(ValidationError, match="is scheduled to go live"):
        services.revision_publish(revision=third, actor=publisher)


def test_withdrawal_takes_the_article_off_the_site(workflow, publisher, client):
    live = workflow.live(slug="to-withdraw")
    pending = workflow.next_draft(live)
    pending = workflow.take_live(pending, publish_at=timezone.now() + datetime.timedelta(days=1))
    with pytest.raises(ValidationError, match="Give the reason"):
        services.revision_withdraw(revision=live, actor=publisher, reason="")
    services.revision_withdraw(revision=live, actor=publisher, reason="Safety concern under investigation.")
    response = client.get("/articles/to-withdraw/")
    assert response.status_code == 410
    assert "This article has been withdrawn" in response.content.decode()
    assert "/articles/to-withdraw/" not in client.get("/").content.decode()
    assert "/articles/to-withdraw/" not in client.get("/sitemap.xml").content.decode()
    assert client.get("/articles/to-withdraw/history/").status_code == 410
    # The pending schedule was cancelled, so the article does not come back by itself.
    assert Revision.objects.get(pk=pending.pk).state == RevisionState.APPROVED


# --- The audit log ---------------------------------------------------------------------


def test_the_audit_log_records_the_journey_in_order(author, reviewer, publisher):
    draft = services.article_import(document=article_document(), actor=author)
    save_draft(draft, author)
    services.revision_submit(revision=Revision.objects.get(pk=draft.pk), actor=author, change_summary="First.")
    approve(draft, reviewer)
    services.revision_publish(revision=draft, actor=publisher)
    steps = list(
        AuditEntry.objects.filter(revision=draft).values_list("action", "actor__username", "from_state", "to_state")
    )
    assert steps == [
        ("create_draft", "author", "", "draft"),
        ("save_draft", "author", "draft", "draft"),
        ("submit", "author", "draft", "in_review"),
        ("approve", "reviewer", "in_review", "approved"),
        ("publish", "publisher", "approved", "published"),
    ]


def test_the_audit_log_is_append_only(workflow):
    workflow.live()
    entry = AuditEntry.objects.first()
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(comment="rewritten")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    # Even raw SQL is refused by the database.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE articles_auditentry SET comment = 'rewritten'")
    assert not AuditEntry.objects.filter(comment="rewritten").exists()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_publishes_leave_exactly_one_live_revision(author, reviewer, publisher):
    """Two publishers press "publish" at the same moment, on separate database connections."""
    first = services.article_import(document=article_document(), actor=author)
    from tests.conftest import take_live

    first = take_live(first, author, reviewer, publisher)
    candidates = []
    for _ in range(2):
        draft = services.revision_create_draft(article=first.article, actor=author, based_on=first)
        draft = services.revision_submit(revision=draft, actor=author, change_summary="Concurrent.")
        candidates.append(approve(draft, reviewer))

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def publish(revision: Revision) -> None:
        try:
            barrier.wait(timeout=10)
            services.revision_publish(revision=revision, actor=publisher)
            outcomes.append("published")
        except (ValidationError, PermissionDenied) as error:
            outcomes.append(f"refused: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(revision,)) for revision in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Both copied from the live revision: the second would take back the first's changes, so it is refused.
    assert sorted(outcomes)[0] == "published"
    assert "went live after revision" in sorted(outcomes)[1]
    live = Revision.objects.filter(article=first.article, state=RevisionState.PUBLISHED)
    assert live.count() == 1
    assert Revision.objects.filter(article=first.article, state=RevisionState.SUPERSEDED).count() == 1

    # And the same revision published twice at once: one wins, the other is refused.
    draft = services.revision_create_draft(article=first.article, actor=author, based_on=first)
    draft = approve(services.revision_submit(revision=draft, actor=author, change_summary="Again."), reviewer)
    outcomes.clear()
    barrier.reset()
    threads = [threading.Thread(target=publish, args=(draft,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes)[0] == "published"
    assert sorted(outcomes)[1].startswith("refused: ")
    assert Revision.objects.filter(article=first.article, state=RevisionState.PUBLISHED).count() == 1


def test_a_schedule_can_be_cancelled_until_a_minute_before_its_time_then_not(
    workflow, author, reviewer, publisher, clock
):
    """Readers see a scheduled revision live from its time: a cancellation committing after it would take back a page
    they were shown, with no record that it was live. So the last minute is too late (``SCHEDULE_CANCEL_MARGIN``)."""
    early = start_in(RevisionState.SCHEDULED, workflow, author, reviewer, publisher)
    services.revision_unschedule(revision=early, actor=publisher)
    assert Revision.objects.get(pk=early.pk).state == RevisionState.APPROVED

    late = services.revision_publish(
        revision=early, actor=publisher, publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    clock.advance(datetime.timedelta(hours=1) - services.SCHEDULE_CANCEL_MARGIN + datetime.timedelta(seconds=1))
    with pytest.raises(ValidationError) as refused:
        services.revision_unschedule(revision=late, actor=publisher)
    assert refused.value.code == "too_late_to_cancel"
    assert "Too late to cancel" in refused.value.messages[0]
    assert Revision.objects.get(pk=late.pk).state == RevisionState.SCHEDULED
