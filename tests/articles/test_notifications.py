"""Workflow emails: whose turn it is at each step, after commit only, never to who turned them off."""

from __future__ import annotations

import datetime
import io
import logging

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles import services
from articles.models import NotificationSettings, OverdueNotice, Revision, RevisionState
from tests.conftest import approve, make_user
from tests.factories import article_document


def recipients(mailbox) -> list[str]:
    return sorted(address for message in mailbox for address in message.to)


@pytest.fixture
def second_reviewer(roles):
    return make_user("second-reviewer", "Clinical reviewers", profile=True)


def test_each_step_tells_whose_turn_it_is(
    author, reviewer, second_reviewer, publisher, mailoutbox, django_capture_on_commit_callbacks
):
    draft = services.article_import(document=article_document(), actor=author)
    assert mailoutbox == []  # a new draft is nobody else's turn

    def step(name, revision, actor, **data):
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = services.TRANSITIONS[name].service(revision=revision, actor=actor, **data)
        return result, recipients(mailoutbox)

    # Submitted: the clinical reviewers (not the author, not the publisher).
    revision, told = step("submit", draft, author, change_summary="First version.")
    assert told == ["reviewer@example.org", "second-reviewer@example.org"]
    message = mailoutbox[0]
    assert "submitted for clinical review" in message.subject
    assert f"https://medsafety.example/admin/articles/revision/{draft.pk}/change/" in message.body
    assert "https://medsafety.example/admin/notifications/" in message.body

    # Changes requested: the author, whose words are in it.
    revision, told = step("request_changes", revision, reviewer, comment="Cite the trial.")
    assert told == ["author@example.org"]
    assert "Cite the trial" not in mailoutbox[0].body  # the request is read on the page, after signing in

    revision, told = step("submit", revision, author, change_summary="Cited.")
    assert told == ["reviewer@example.org", "second-reviewer@example.org"]

    # Approved: the publishers.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        revision = approve(revision, reviewer)
    assert recipients(mailoutbox) == ["publisher@example.org"]

    # Published, then withdrawn: the author and the reviewer who approved it (not the other reviewer).
    revision, told = step("publish", revision, publisher)
    assert told == ["author@example.org", "reviewer@example.org"]
    revision, told = step("withdraw", revision, publisher, reason="Superseded by national guidance.")
    assert told == ["author@example.org", "reviewer@example.org"]
    assert "withdrawn" in mailoutbox[0].subject


def test_nobody_who_turned_emails_off_and_not_the_one_who_acted(
    author_reviewer, reviewer, second_reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    services.notification_settings_update(user=second_reviewer, email_notifications=False)
    draft = services.article_import(document=article_document(), actor=author_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        services.revision_submit(revision=draft, actor=author_reviewer, change_summary="First version.")
    # The author is a reviewer too, but may not review their own words; the second reviewer said no.
    assert recipients(mailoutbox) == ["reviewer@example.org"]

    services.notification_settings_update(user=second_reviewer, email_notifications=True)
    assert NotificationSettings.objects.get(user=second_reviewer).email_notifications is True


def test_nothing_is_sent_when_the_step_rolls_back(author, reviewer, mailoutbox, django_capture_on_commit_callbacks):
    draft = services.article_import(document=article_document(), actor=author)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.revision_submit(revision=draft, actor=author, change_summary="First version.")
                raise RuntimeError("something later in the same transaction failed")
        except RuntimeError:
            pass
        with pytest.raises(ValidationError):  # a refused step: no change summary
            services.revision_submit(revision=draft, actor=author, change_summary="")
    assert mailoutbox == []
    assert Revision.objects.get(pk=draft.pk).state == RevisionState.DRAFT


def test_a_mail_failure_never_breaks_the_step(
    author, reviewer, mailoutbox, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    class Broken:
        def send_messages(self, messages):
            raise OSError("mail server unreachable")

    monkeypatch.setattr("articles.notifications.get_connection", lambda: Broken())
    draft = services.article_import(document=article_document(), actor=author)
    with (
        caplog.at_level(logging.ERROR, logger="articles.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.revision_submit(revision=draft, actor=author, change_summary="First version.")
    assert Revision.objects.get(pk=draft.pk).state == RevisionState.IN_REVIEW
    assert "Could not send" in caplog.text


def test_scheduling_tells_nobody_until_the_revision_goes_live(
    author, reviewer, publisher, mailoutbox, django_capture_on_commit_callbacks, clock
):
    from django.utils import timezone

    draft = services.article_import(document=article_document(), actor=author)
    approved = approve(services.revision_submit(revision=draft, actor=author, change_summary="First."), reviewer)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.revision_publish(
            revision=approved, actor=publisher, publish_at=timezone.now() + datetime.timedelta(hours=1)
        )
    assert mailoutbox == []
    clock.advance(datetime.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("publish_scheduled", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert recipients(mailoutbox) == ["author@example.org", "reviewer@example.org"]


def test_overdue_reviews_are_told_once_per_due_date(
    workflow, reviewer, second_reviewer, author, mailoutbox, django_capture_on_commit_callbacks, clock
):
    live = workflow.live()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.revisions_notify_overdue() == []
    clock.advance(datetime.timedelta(days=400))  # past the default twelve-month review date
    with django_capture_on_commit_callbacks(execute=True):
        assert services.revisions_notify_overdue() == [live]
    # The reviewer who approved it wrote none of it: both reviewers may confirm it, both are told.
    assert recipients(mailoutbox) == ["reviewer@example.org", "second-reviewer@example.org"]
    assert "overdue" in mailoutbox[0].subject

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify_overdue_reviews", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert mailoutbox == []  # told already for this due date
    period = OverdueNotice.objects.get(revision=live).period
    with pytest.raises(IntegrityError), transaction.atomic():
        OverdueNotice.objects.create(revision=live, period=period)  # what stops a second machine


def test_each_step_is_in_the_users_recent_actions(author, reviewer, django_capture_on_commit_callbacks):
    draft = services.article_import(document=article_document(), actor=author)
    services.revision_submit(revision=draft, actor=author, change_summary="First version.")
    services.revision_request_changes(revision=draft, actor=reviewer, comment="Cite the trial.")
    entries = list(
        LogEntry.objects.order_by("pk").values_list("user__username", "object_id", "object_repr", "action_flag")
    )
    slug = draft.article.slug
    assert entries == [
        ("author", str(draft.pk), f"{slug} revision 1: submitted", CHANGE),
        ("reviewer", str(draft.pk), f"{slug} revision 1: sent back for changes", CHANGE),
    ]


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_machines_telling_of_overdue_reviews_at_once_tell_once(workflow, reviewer, mailoutbox, clock):
    from tests.articles.test_concurrency import race

    live = workflow.live()
    clock.advance(datetime.timedelta(days=400))
    mailoutbox.clear()

    def tell() -> str:
        return ",".join(str(revision.pk) for revision in services.revisions_notify_overdue())

    outcomes = race(tell, tell)
    assert sorted(outcomes) == ["", str(live.pk)], outcomes
    assert recipients(mailoutbox) == ["reviewer@example.org"]
    assert OverdueNotice.objects.filter(revision=live).count() == 1


@pytest.mark.django_db
def test_loading_the_demo_walks_the_workflow_and_tells_nobody(mailoutbox, settings, django_capture_on_commit_callbacks):
    """``load_demo`` takes its content through every step, with accounts that have addresses: no emails."""
    settings.DEMO_ACCOUNTS_ENABLED = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    assert Revision.objects.filter(state=RevisionState.PUBLISHED).exists()
    assert mailoutbox == []


def test_a_scheduled_revision_live_and_overdue_before_it_is_recorded_is_told_of(
    workflow, reviewer, second_reviewer, author, publisher, mailoutbox, django_capture_on_commit_callbacks, clock
):
    """Readers see a scheduled revision from its time, before ``publish_scheduled`` records it; if its review is
    overdue by then, the reviewers are told, not merely noted as told."""
    live = workflow.live()
    draft = workflow.next_draft(live)
    draft = approve(services.revision_submit(revision=draft, actor=author, change_summary="Next."), reviewer)
    at = timezone.now() + datetime.timedelta(hours=1)
    scheduled = services.revision_publish(revision=draft, actor=publisher, publish_at=at)
    clock.advance(datetime.timedelta(days=400))  # its time has come, and its review date has passed
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        told = services.revisions_notify_overdue()
    assert [revision.pk for revision in told] == [scheduled.pk]
    assert any("overdue" in message.subject for message in mailoutbox), [m.subject for m in mailoutbox]
    assert OverdueNotice.objects.filter(revision=scheduled).count() == 1
