"""A busy clinician's typed work is never thrown away without a warning and a way back.

Words typed into a draft live only in the page until it is saved. A workflow step sent from the same page (submit,
archive, a comment) does not carry them: it would act on the saved content while the page showed other words, and
the typed words would be gone. And a save the server cannot take (the session ended, or a log-in in another tab
changed the security token) answers with a log-in or a refusal page, not the form: what was typed must still be
there to put back.
"""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session

from articles.models import AuditEntry, Revision, RevisionState
from tests.conftest import make_user
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


def put_back_and_save(page) -> None:
    notice = page.locator(".unsaved-copy")
    notice.wait_for()
    assert "not saved" in notice.inner_text()
    notice.get_by_role("button", name="Put them back in the form").click()
    assert page.locator("#id_sections-0-body").input_value() == TYPED
    follow(page.locator("input[name=_continue]"))
    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    assert page.locator(".unsaved-copy").count() == 0


def test_an_edit_sent_after_the_session_ended_can_be_put_back_after_signing_in(browser, live_server, draft):
    page = sign_in(browser, live_server.url, "author")
    page.goto(f"/admin/articles/revision/{draft.pk}/change/")
    page.fill("#id_sections-0-body", TYPED)
    Session.objects.all().delete()  # the session ended while they typed

    follow(page.locator("input[name=_continue]"))
    assert "/admin/login/" in page.url
    assert first_body(draft) != TYPED
    page.fill("#id_username", "author")
    page.fill("#id_password", "pw")
    follow(page.locator("input[type=submit]"))

    assert page.url.endswith(f"/admin/articles/revision/{draft.pk}/change/")
    put_back_and_save(page)
    assert first_body(draft) == TYPED


def test_an_edit_kept_in_the_tab_is_offered_only_to_the_person_who_typed_it(browser, live_server, draft):
    """The copy is kept in the browser tab. On a shared computer, the next clinician to sign in there must not be
    offered someone else's unsaved words to save as their own: the audit log would name them for words they never
    wrote."""
    make_user("other-author", "Authors")
    page = sign_in(browser, live_server.url, "author")
    page.goto(f"/admin/articles/revision/{draft.pk}/change/")
    page.fill("#id_sections-0-body", TYPED)
    Session.objects.all().delete()  # the session ended while they typed; they left the computer

    follow(page.locator("input[name=_continue]"))
    assert "/admin/login/" in page.url
    page.fill("#id_username", "other-author")
    page.fill("#id_password", "pw")
    follow(page.locator("input[type=submit]"))

    assert page.url.endswith(f"/admin/articles/revision/{draft.pk}/change/")
    page.locator("#id_sections-0-body").wait_for()
    assert page.locator(".unsaved-copy").count() == 0
    assert page.locator("#id_sections-0-body").input_value() != TYPED


def test_an_edit_refused_for_its_security_token_can_be_put_back_after_a_reload(browser, live_server, draft):
    page = sign_in(browser, live_server.url, "author")
    page.goto(f"/admin/articles/revision/{draft.pk}/change/")
    page.fill("#id_sections-0-body", TYPED)
    # Signed in again in another tab of the same browser: the security token changes.
    other = page.context.new_page()
    other.goto("/admin/")
    follow(other.locator("#logout-form button"))
    other.goto("/admin/login/")
    other.fill("#id_username", "author")
    other.fill("#id_password", "pw")
    follow(other.locator("input[type=submit]"))
    other.close()

    follow(page.locator("input[name=_continue]"))
    refusal = page.locator("main, body").first.inner_text()
    assert "could not be sent" in refusal
    assert "reload" not in refusal.lower()  # a reload empties the form
    assert first_body(draft) != TYPED

    # Even reloaded, the page offers what was typed.
    page.goto(f"/admin/articles/revision/{draft.pk}/change/")
    put_back_and_save(page)
    assert first_body(draft) == TYPED


def test_an_edit_refused_as_stale_can_be_put_back_on_the_newer_draft_without_undoing_the_other(
    browser, live_server, draft
):
    """Two tabs on one draft: the second save is refused (the draft moved on), and its page says to reload and apply
    the changes again. Reloaded, the draft offers them back; put back where the other save changed nothing."""
    first = sign_in(browser, live_server.url, "author")
    url = f"/admin/articles/revision/{draft.pk}/change/"
    first.goto(url)
    second = first.context.new_page()
    second.goto(url)
    first.fill("#id_sections-1-body", "Saved first, from the other tab [@ref-1].")
    follow(first.locator("input[name=_continue]"))
    second.fill("#id_sections-0-body", TYPED)
    follow(second.locator("input[name=_continue]"))
    assert "Someone else saved this draft" in second.content()

    second.goto(url)
    put_back_and_save(second)
    assert first_body(draft) == TYPED
    assert Revision.objects.get(pk=draft.pk).sections.order_by("position")[1].body == (
        "Saved first, from the other tab [@ref-1]."
    )


def test_the_offer_to_put_back_shows_before_the_page_has_finished_loading(browser, live_server, draft):
    """On a slow line the page's images can take a minute after its text: the offer comes with the text. (Found at
    400 ms and 50 kB/s: the offer waited for every icon, and the clinician saved the empty form before it came.)"""
    page = sign_in(browser, live_server.url, "author")
    page.goto(f"/admin/articles/revision/{draft.pk}/change/")
    page.fill("#id_sections-0-body", TYPED)
    Session.objects.all().delete()
    follow(page.locator("input[name=_continue]"))
    page.fill("#id_username", "author")
    page.fill("#id_password", "pw")
    stalled = []
    page.route("**/*.svg", lambda route: stalled.append(route))  # the icons never arrive: no "load" event
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"**/admin/articles/revision/{draft.pk}/change/", wait_until="domcontentloaded")
    assert stalled, "no icon was held back: the page did not wait for any"
    notice = page.locator(".unsaved-copy")
    notice.wait_for(timeout=10_000)
    assert "not saved" in notice.inner_text()
