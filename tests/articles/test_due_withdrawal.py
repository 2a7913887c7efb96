"""Withdrawing an article whose scheduled revision has gone live but is not yet recorded (``publish_scheduled`` runs
every minute from cron; readers see the revision live from its time).

Found from outside: in that minute the admin showed the replaced revision as published and offered only its
"Withdraw", which the service refused ("revision 1 is superseded": recording the due publication is the first thing
every step does), and the live revision as scheduled, offering only "Cancel", refused too. So a publisher could not
take an article off the site until cron ran.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from articles import services
from articles.models import Revision, RevisionState
from tests.articles.test_concurrency import due_scheduled
from tests.conftest import approve, take_live
from tests.factories import article_document

pytestmark = pytest.mark.django_db


def test_withdrawing_the_revision_a_due_schedule_replaced_withdraws_the_one_readers_see(author, reviewer, publisher):
    live, scheduled = due_scheduled(author, reviewer, publisher, 1)
    # The page the publisher clicked on was shown before the time came: it says published.
    assert live.state == RevisionState.PUBLISHED

    withdrawn = services.revision_withdraw(revision=live, actor=publisher, reason="Safety concern.")

    assert withdrawn.pk == scheduled.pk
    states = dict(live.article.revisions.values_list("number", "state"))
    assert states == {live.number: RevisionState.SUPERSEDED, scheduled.number: RevisionState.WITHDRAWN}
    assert Client().get(live.article.get_absolute_url()).status_code == 410


def test_a_due_scheduled_revision_offers_what_a_live_one_does_and_the_one_it_replaced_offers_nothing_live(
    author, reviewer, publisher
):
    live, scheduled = due_scheduled(author, reviewer, publisher, 2)

    offered = services.available_transitions(revision=scheduled, actor=publisher)
    assert "withdraw" in offered
    assert "unschedule" not in offered
    assert "withdraw" not in services.available_transitions(revision=live, actor=publisher)

    services.revision_withdraw(revision=scheduled, actor=publisher, reason="Safety concern.")
    assert Revision.objects.get(pk=scheduled.pk).state == RevisionState.WITHDRAWN


def test_a_revision_replaced_by_hand_is_not_withdrawn_in_place_of_the_one_that_replaced_it(author, reviewer, publisher):
    """Only a scheduled publication, which nobody clicked, stands in: a revision a publisher put live by hand was
    shown to them, and a page from before it is refused and shown again."""
    live, scheduled = due_scheduled(author, reviewer, publisher, 3)
    services.revisions_publish_due()
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=scheduled)
    from tests.conftest import take_live

    newest = take_live(draft, author, reviewer, publisher)
    stale = Revision.objects.get(pk=scheduled.pk)
    stale.state = RevisionState.PUBLISHED  # as the publisher's page still shows it

    with pytest.raises(ValidationError, match="superseded"):
        services.revision_withdraw(revision=stale, actor=publisher, reason="Safety concern.")
    assert Revision.objects.get(pk=newest.pk).state == RevisionState.PUBLISHED


def test_the_admin_says_which_revision_it_withdrew_and_shows_it(client, author, reviewer, publisher):
    live, scheduled = due_scheduled(author, reviewer, publisher, 4)
    page = Client()
    page.force_login(publisher)
    shown = page.get(f"/admin/articles/revision/{scheduled.pk}/change/").content.decode()
    assert 'value="withdraw"' in shown and 'value="unschedule"' not in shown

    response = page.post(
        f"/admin/articles/revision/{live.pk}/transition/withdraw/", {"withdraw-reason": "Safety concern."}, follow=True
    )

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/admin/articles/revision/{scheduled.pk}/change/"
    assert f"done to revision {scheduled.number}, live since its scheduled time. It is now withdrawn." in html
    assert Revision.objects.get(pk=scheduled.pk).state == RevisionState.WITHDRAWN


def test_a_withdrawal_never_cancels_a_schedule_in_its_last_minute(author, reviewer, publisher, clock):
    """Found from outside: a withdrawal cancelled a scheduled publication however close its time was. Decided just
    before the time and committed just after it, readers were shown the scheduled revision live in between (seen:
    16 ms), while the record and the change feed said it never was: a partner replaying the feed kept nothing of
    it, and nothing in the audit log says it went live. A cancellation is refused in that minute for the same reason
    (``SCHEDULE_CANCEL_MARGIN``); so is a withdrawal that would cancel one. Once it is live, the withdrawal withdraws
    it, recorded as published at its time first."""
    imported = services.article_import(document=article_document(slug="last-minute"), actor=author)
    live = take_live(imported, author, reviewer, publisher)
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    draft = approve(services.revision_submit(revision=draft, actor=author, change_summary="Scheduled."), reviewer)
    when = timezone.now() + datetime.timedelta(hours=1)
    scheduled = services.revision_publish(revision=draft, actor=publisher, publish_at=when)
    clock.advance(datetime.timedelta(hours=1) - services.SCHEDULE_CANCEL_MARGIN + datetime.timedelta(seconds=1))

    with pytest.raises(ValidationError) as refused:
        services.revision_withdraw(revision=live, actor=publisher, reason="Safety concern.")
    assert refused.value.code == "scheduled_too_soon"
    assert f"goes live at {timezone.localtime(when):%H:%M:%S}" in refused.value.messages[0]
    states = dict(live.article.revisions.values_list("number", "state"))
    assert states == {live.number: RevisionState.PUBLISHED, scheduled.number: RevisionState.SCHEDULED}

    clock.advance(services.SCHEDULE_CANCEL_MARGIN)  # live now
    withdrawn = services.revision_withdraw(revision=live, actor=publisher, reason="Safety concern.")
    assert withdrawn.pk == scheduled.pk
    assert Revision.objects.get(pk=scheduled.pk).published_at == when
    assert Client().get(live.article.get_absolute_url()).status_code == 410
