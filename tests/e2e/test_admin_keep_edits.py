"""A busy clinician's typed work is never thrown away without a warning and a way back.

Words typed into a draft live only in the page until it is saved. A workflow step sent from the same page (submit,
archive, a comment) does not carry them: it would act on the saved content while the page showed other words, and
the typed words would be gone.
"""

from __future__ import annotations

import pytest

from articles.models import AuditEntry, Revision, RevisionState
from tests.e2e.browsing import follow
from tests.e2e.test_admin_authoring import sign_in

pytestmark = pytest.mark.browser

TYPED = "A correction the author typed and has not saved yet [@ref-1]."


@pytest.fixture
def draft(transactional_db, roles, workflow):
    return workflow.draft()


def first_body(revision: Revision) -> str:
    return Revision.objects.get(pk=revision.pk).sections.order_by("position").first().body


def test_a_step_is_not_taken_while_the_draft_shown_has_unsaved_changes(browser, live_server, draft):
    page = sign_in(browser, live_server.url, "author")
    page.goto(f"/admin/articles/revision/{draft.pk}/change/")
    page.fill("#id_sections-0-body", TYPED)
    page.fill("#id_submit-change_summary", "First version.")
    page.get_by_role("button", name="Submit for clinical review").click()

    # Not sent: the page says why, and keeps what was typed.
    warning = page.locator(".workflow__action--submit [role=alert]")
    warning.wait_for()
    assert "not saved" in warning.inner_text()
    assert page.locator("#id_sections-0-body").input_value() == TYPED
    assert Revision.objects.get(pk=draft.pk).state == RevisionState.DRAFT
    assert not AuditEntry.objects.filter(revision=draft, action="submit").exists()

    # Saved first, the same step goes through, with the words the page showed.
    follow(page.locator("input[name=_continue]"))
    page.fill("#id_submit-change_summary", "First version.")
    follow(page.get_by_role("button", name="Submit for clinical review"))
    assert Revision.objects.get(pk=draft.pk).state == RevisionState.IN_REVIEW
    assert first_body(draft) == TYPED
