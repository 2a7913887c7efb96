"""The whole review journey in Chromium: author, clinical reviewer, publisher, reader."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles.demo.loading import DEMO_PASSWORD
from articles.models import AuditEntry, Revision
from tests.e2e.browsing import follow

pytestmark = pytest.mark.browser

ARTICLE = "/articles/amlodipine-peripheral-neuropathy/"
OLD = "Amlodipine is a calcium channel blocker widely prescribed"
NEW = "Amlodipine is a calcium channel blocker commonly prescribed"
REQUEST = "Please keep the change summary to the wording change only."


def sign_in(browser, base_url: str, username: str):
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    assert page.url.endswith("/admin/"), f"{username} could not sign in"
    return page


def success_message(page) -> str:
    page.wait_for_selector(".messagelist .success")
    return page.locator(".messagelist").inner_text()


def assert_no_axe_violations(page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_author_reviewer_publisher_and_reader(browser, demo_site, artifacts):
    url = demo_site.url
    live = Revision.objects.get(article__slug="amlodipine-peripheral-neuropathy")

    # The author starts a new draft from the live revision, edits a section and submits it.
    author = sign_in(browser, url, "demo-author")
    author.goto(f"/admin/articles/revision/{live.pk}/change/")
    follow(author.get_by_role("button", name="Start a new draft from this revision"))
    assert "Started draft revision 2." in success_message(author)
    body = author.locator("#id_sections-0-body")
    assert OLD in body.input_value()
    body.fill(body.input_value().replace(OLD, NEW))
    author.click("input[name=_continue]")
    assert "was changed successfully" in success_message(author)
    author.fill("#id_submit-change_summary", "Plainer wording in the first section.")
    follow(author.get_by_role("button", name="Submit for clinical review"))
    assert "The revision is now in review." in success_message(author)
    author.screenshot(path=artifacts / "journey-1-submitted.png", full_page=True)

    # The reviewer finds it in the queue, sees the change in the diff, and approves.
    reviewer = sign_in(browser, url, "demo-reviewer")
    follow(reviewer.locator("#dashboard-awaiting-review").get_by_role("link", name="Awaiting my review"))
    follow(reviewer.get_by_role("link", name="See what changed"))
    reviewer.wait_for_selector(".diff")
    reviewer.screenshot(path=artifacts / "journey-2-diff.png", full_page=True)
    assert reviewer.locator("ins", has_text="commonly").count() == 1
    assert reviewer.locator("del", has_text="widely").count() == 1
    follow(reviewer.get_by_role("link", name="Back to revision 2"))
    reviewer.wait_for_selector(".workflow__action--approve")
    reviewer.screenshot(path=artifacts / "journey-2b-review.png", full_page=True)
    # What informs the decision sits beside it, above the content; the page fits a phone.
    panel = reviewer.locator(".workflow")
    for link in ["Preview", "Compare with live"]:
        expect(panel.get_by_role("link", name=link)).to_be_visible()
    reviewer.set_viewport_size({"width": 390, "height": 844})
    assert reviewer.evaluate("document.documentElement.scrollWidth") <= 390
    reviewer.screenshot(path=artifacts / "journey-2c-review-390.png", full_page=True)
    reviewer.set_viewport_size({"width": 1280, "height": 720})

    # First the reviewer asks for a change; the author sees it at the top of the page and resubmits.
    reviewer.fill("#id_request_changes-comment", REQUEST)
    follow(reviewer.get_by_role("button", name="Request changes"))
    assert "The revision is now changes requested." in success_message(reviewer)
    author.reload()
    requested = author.get_by_role("note")
    expect(requested).to_contain_text(REQUEST)
    expect(requested).to_contain_text("Changes requested by Demo Reviewer")
    assert requested.bounding_box()["y"] < author.locator(".workflow__actions").bounding_box()["y"]
    author.set_viewport_size({"width": 390, "height": 844})
    assert author.evaluate("document.documentElement.scrollWidth") <= 390
    author.screenshot(path=artifacts / "journey-2d-changes-requested-390.png", full_page=True)
    author.set_viewport_size({"width": 1280, "height": 720})
    author.fill("#id_submit-change_summary", "Plainer wording in the first section.")
    follow(author.get_by_role("button", name="Submit for clinical review"))
    assert "The revision is now in review." in success_message(author)

    reviewer.goto("/admin/")
    follow(reviewer.locator("#dashboard-awaiting-review").get_by_role("link", name="Awaiting my review"))
    follow(reviewer.get_by_role("link", name="amlodipine-peripheral-neuropathy revision 2"))
    reviewer.wait_for_selector(".workflow__action--approve")
    warnings = reviewer.locator(".workflow__action--approve input[type=checkbox]")
    assert warnings.count() >= 1  # the unverified reference, at least
    for index in range(warnings.count()):
        warnings.nth(index).check()
    reviewer.fill("#id_approve-comment", "Wording checked; meaning unchanged.")
    follow(reviewer.get_by_role("button", name="Approve"))
    assert "The revision is now approved." in success_message(reviewer)

    # The publisher publishes it now.
    publisher = sign_in(browser, url, "demo-publisher")
    publisher.goto(f"/admin/articles/revision/{Revision.objects.get(number=2).pk}/change/")
    follow(publisher.get_by_role("button", name="Publish"))
    assert "The revision is now published." in success_message(publisher)

    # A reader sees the new text and who reviewed it, and the history lists both revisions.
    reader = browser.new_context(base_url=url).new_page()
    reader.goto(ARTICLE)
    text = reader.locator("main").inner_text()
    assert NEW in text
    assert OLD not in text
    review_panel = reader.get_by_role("complementary", name="Clinical review").inner_text()
    assert "Reviewed by Demo Reviewer (demonstration account, not a real clinician)" in review_panel
    assert "No clinical credentials: demonstration account" in review_panel
    assert "Next review due" in review_panel
    assert_no_axe_violations(reader)
    reader.screenshot(path=artifacts / "journey-3-published.png", full_page=True)
    follow(reader.get_by_role("link", name="Page history").first)
    reader.wait_for_selector("ol.history")
    items = reader.locator("ol.history > li")
    assert items.count() == 2
    assert "Plainer wording in the first section." in items.nth(0).inner_text()
    assert "current" in items.nth(0).inner_text().lower()
    assert "First version, structured from the source article" in items.nth(1).inner_text()
    assert_no_axe_violations(reader)
    reader.screenshot(path=artifacts / "journey-4-history.png", full_page=True)

    # The audit log lists every step with the right actor, in order.
    steps = list(
        AuditEntry.objects.filter(article__slug="amlodipine-peripheral-neuropathy")
        .order_by("pk")
        .values_list("revision__number", "action", "actor__username")
    )
    assert steps == [
        (1, "create_draft", "demo-author"),
        (1, "submit", "demo-author"),
        (1, "approve", "demo-reviewer"),
        (1, "publish", "demo-publisher"),
        (2, "create_draft", "demo-author"),
        (2, "save_draft", "demo-author"),
        (2, "submit", "demo-author"),
        (2, "request_changes", "demo-reviewer"),
        (2, "submit", "demo-author"),
        (2, "approve", "demo-reviewer"),
        (1, "supersede", "demo-publisher"),
        (2, "publish", "demo-publisher"),
    ]
