"""A reader says a page is out of date, in Chromium, with and without JavaScript; axe checks every feedback page."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles.models import Revision
from feedback.models import Feedback, FeedbackAuditEntry
from tests.e2e.browsing import fits_across, follow, text_twice_as_large

pytestmark = pytest.mark.browser

ARTICLE = "/articles/amlodipine-peripheral-neuropathy/"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def assert_no_axe_violations(page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_no_out_of_date_without_javascript(browser, demo_site, artifacts):
    context = browser.new_context(base_url=demo_site.url, java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(ARTICLE)
        ask = page.get_by_role("region", name="Is this page helpful?")
        follow(ask.get_by_role("button", name="this page is not helpful"))
        assert page.get_by_role("heading", level=1).inner_text() == "Tell us what was wrong"
        page.get_by_label("It is out of date").check()
        page.get_by_label("Tell us more (optional)").fill("The guidance changed last year.")
        follow(page.get_by_role("button", name="Send feedback"))
        assert page.get_by_role("heading", level=1).inner_text() == "Thank you for your feedback"
        page.screenshot(path=artifacts / "feedback-thanks-phone-nojs.png", full_page=True)
    finally:
        context.close()
    feedback = Feedback.objects.get()
    assert (feedback.helpful, feedback.reason, feedback.text) == (
        False,
        "out_of_date",
        "The guidance changed last year.",
    )
    assert feedback.revision.article.slug == "amlodipine-peripheral-neuropathy"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_feedback_pages_have_no_accessibility_violations(browser, demo_site, artifacts, viewport):
    context = browser.new_context(base_url=demo_site.url, viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    width = viewport["width"]
    try:
        page.goto(ARTICLE)
        ask = page.get_by_role("region", name="Is this page helpful?")
        ask.scroll_into_view_if_needed()
        ask.screenshot(path=artifacts / f"feedback-on-article-{width}.png")
        follow(page.get_by_role("button", name="this page is not helpful"))
        assert_no_axe_violations(page)  # What was wrong?
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=artifacts / f"feedback-ask-no-{width}.png", full_page=True)
        follow(page.get_by_role("button", name="Send feedback"))  # no reason chosen
        page.wait_for_selector(".error-summary")
        assert_no_axe_violations(page)
        page.screenshot(path=artifacts / f"feedback-error-{width}.png", full_page=True)
        page.get_by_label("It is unclear").check()
        follow(page.get_by_role("button", name="Send feedback"))
        assert_no_axe_violations(page)  # thanks
        page.screenshot(path=artifacts / f"feedback-thanks-{width}.png", full_page=True)
        page.goto(ARTICLE)
        follow(page.get_by_role("button", name="this page is helpful"))
        assert_no_axe_violations(page)  # the "yes" step
        page.screenshot(path=artifacts / f"feedback-ask-yes-{width}.png", full_page=True)
        page.goto(f"/feedback/{Feedback.objects.get().revision_id}/")
        assert_no_axe_violations(page)  # the full form, both questions
        page.screenshot(path=artifacts / f"feedback-ask-{width}.png", full_page=True)
    finally:
        context.close()
    assert [e for e in errors if "400" not in e] == []


def test_a_reviewer_handles_feedback_in_the_queue(browser, demo_site, artifacts):
    from articles.demo.loading import DEMO_PASSWORD
    from feedback import services

    revision = Revision.objects.published().get(article__slug="amlodipine-peripheral-neuropathy")
    services.feedback_submit(revision=revision, helpful=False, reason="out_of_date", text="The dose table is old.")
    context = browser.new_context(base_url=demo_site.url, viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto("/admin/login/")
        page.fill("#id_username", "demo-reviewer")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("input[type=submit]")
        page.goto(f"/admin/articles/revision/{revision.pk}/change/")
        page.locator(".revision-note").screenshot(path=artifacts / "feedback-admin-revision-note.png")
        follow(page.get_by_role("link", name="0 helpful, 1 not helpful"))
        # Waits for the queue to load (is_visible() would not wait: flaky on a busy machine).
        expect(page.get_by_text("The dose table is old.")).to_be_visible()
        page.screenshot(path=artifacts / "feedback-admin-queue.png", full_page=True)
        page.locator("input[name=_selected_action]").first.check()
        page.select_option("select[name=action]", "mark_handled")
        follow(page.locator("button[name=index]"))  # the actions bar's "Go"
        assert "Marked 1 feedback handled." in page.locator(".messagelist").inner_text()
        page.screenshot(path=artifacts / "feedback-admin-handled.png", full_page=True)
    finally:
        context.close()
    assert FeedbackAuditEntry.objects.get().actor.username == "demo-reviewer"


def test_after_a_form_with_a_problem_the_keyboard_starts_at_the_error_summary(browser, demo_site):
    """As on the symptom check: the error summary is there to be focused (tabindex="-1"), but nothing focused it."""
    context = browser.new_context(base_url=demo_site.url, java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(ARTICLE)
        follow(page.get_by_role("button", name="this page is not helpful"))
        page.get_by_role("button", name="Send feedback").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator(".error-summary")).to_be_focused()
    finally:
        context.close()


def test_a_question_with_a_problem_fits_a_narrow_phone_with_the_text_twice_as_large(browser, demo_site, artifacts):
    """Found from outside at 320 px with the root font at 200% (WCAG 1.4.10 with 1.4.4): after Send feedback with no
    reason, the "What was wrong?" fieldset ran 13 px past the screen and the page scrolled sideways (a fieldset is
    at least as wide as its content's longest line unless told otherwise, and the error's border and padding pushed
    it out); and the radio buttons shrank to fit beside their labels, each a different size."""
    context = browser.new_context(
        base_url=demo_site.url, java_script_enabled=False, viewport={"width": 320, "height": 640}
    )
    page = context.new_page()
    try:
        page.goto(ARTICLE)
        follow(page.get_by_role("button", name="this page is not helpful"))
        follow(page.get_by_role("button", name="Send feedback"))
        text_twice_as_large(page)
        fieldset = page.get_by_role("group", name="What was wrong?")
        fieldset.scroll_into_view_if_needed()
        fieldset.screenshot(path=artifacts / "feedback-error-320-200-percent.png")
        fits_across(page, fieldset, 320)
        widths = fieldset.locator("input[type=radio]").evaluate_all(
            "inputs => inputs.map(i => Math.round(i.getBoundingClientRect().width))"
        )
        assert len(set(widths)) == 1, widths
    finally:
        context.close()
