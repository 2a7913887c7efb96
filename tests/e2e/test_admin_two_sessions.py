"""Two people at work at once, each in their own browser session, against a live server.

What a clinician approves must be exactly what they saw: a page opened before the
content changed must not lend their name to the changed content.
"""

from __future__ import annotations

import pytest

from articles import services
from articles.models import AuditEntry, ClinicalReview, Revision, RevisionState
from tests.conftest import make_user
from tests.e2e.browsing import follow
from tests.e2e.test_admin_authoring import sign_in

pytestmark = pytest.mark.browser

CHANGED = "Words the first reviewer never saw."


@pytest.fixture
def in_review(transactional_db, roles, workflow, author):
    draft = workflow.draft()
    return services.revision_submit(revision=draft, actor=author, change_summary="First version.")


def messages_of(page) -> str:
    page.wait_for_selector(".messagelist")
    return page.locator(".messagelist").inner_text()


def test_an_approval_from_a_page_opened_before_the_content_changed_is_refused(browser, live_server, in_review, author):
    second_reviewer = make_user("second-reviewer", "Clinical reviewers", profile=True)
    make_user("first-reviewer", "Clinical reviewers", profile=True)
    url = f"/admin/articles/revision/{in_review.pk}/change/"

    # The first reviewer opens the revision and reads it.
    reviewer = sign_in(browser, live_server.url, "first-reviewer")
    reviewer.goto(url)
    reviewer.wait_for_selector(".workflow__action--approve")
    assert CHANGED not in reviewer.content()

    # Meanwhile a second reviewer sends it back, and the author changes a section and resubmits it.
    services.revision_request_changes(revision=in_review, actor=second_reviewer, comment="Reword section 1.")
    writer = sign_in(browser, live_server.url, "author")
    writer.goto(url)
    writer.fill("#id_sections-0-body", f"{CHANGED} [@ref-1].")
    follow(writer.locator("input[name=_continue]"))
    assert "was changed successfully" in messages_of(writer)
    writer.fill("#id_submit-change_summary", "Reworded section 1.")
    follow(writer.get_by_role("button", name="Submit for clinical review"))
    assert "The revision is now in review." in messages_of(writer)

    # The first reviewer approves from the page they opened before: they never saw the new words.
    boxes = reviewer.locator(".workflow__action--approve input[type=checkbox]")
    for index in range(boxes.count()):
        boxes.nth(index).check()
    follow(reviewer.get_by_role("button", name="Approve"))

    shown = messages_of(reviewer)
    assert "now approved" not in shown
    assert "changed since you opened" in shown
    assert Revision.objects.get(pk=in_review.pk).state == RevisionState.IN_REVIEW
    assert not ClinicalReview.objects.filter(revision=in_review).exists()
    assert not AuditEntry.objects.filter(revision=in_review, action="approve").exists()
    # The page shown with the refusal shows the new words; an approval from it is of those, and goes through.
    assert CHANGED in reviewer.content()
    boxes = reviewer.locator(".workflow__action--approve input[type=checkbox]")
    for index in range(boxes.count()):
        boxes.nth(index).check()
    follow(reviewer.get_by_role("button", name="Approve"))
    assert "The revision is now approved." in messages_of(reviewer)
    review = ClinicalReview.objects.get(revision=in_review)
    assert review.content_hash == Revision.objects.get(pk=in_review.pk).content_hash
