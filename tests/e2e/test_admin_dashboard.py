"""The admin home in Chromium: the clinical reviewer's dashboard leads to the revision waiting for them."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model

from articles import services
from articles.models import Revision
from tests.e2e.browsing import follow
from tests.e2e.test_review_journey import sign_in

pytestmark = pytest.mark.browser


def violations(page, *, ignore: frozenset[str] | set[str] = frozenset()) -> list[str]:
    results = Axe().run(page)
    found = [v for v in results.response["violations"] if v["id"] not in ignore]
    return [f"{v['id']}: {[node['target'] for node in v['nodes']]}" for v in found]


def test_the_reviewer_finds_the_submitted_revision_from_the_dashboard(browser, demo_site, artifacts):
    author = get_user_model().objects.get(username="demo-author")
    live = Revision.objects.get(article__slug="amlodipine-peripheral-neuropathy")
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    services.revision_submit(revision=draft, actor=author, change_summary="Plainer wording.")

    page = sign_in(browser, demo_site.url, "demo-reviewer")
    header = " ".join(page.locator("#user-tools").text_content().split())
    assert "Signed in as Demo Reviewer (Clinical reviewers)." in header and "Welcome" not in header
    row = page.locator("#dashboard-awaiting-review")
    assert row.locator("td").inner_text().strip() == "1"
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts / f"dashboard-reviewer-{width}.png", full_page=True)
        assert violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size({"width": 1280, "height": 900})

    follow(row.get_by_role("link", name="Awaiting my review"))
    page.wait_for_selector("#result_list")
    assert page.get_by_role("link", name=f"amlodipine-peripheral-neuropathy revision {draft.number}").count() == 1
    page.screenshot(path=artifacts / "dashboard-reviewer-queue.png", full_page=True)


def test_the_reviewer_turns_their_emails_off(browser, demo_site, artifacts):
    page = sign_in(browser, demo_site.url, "demo-reviewer")
    follow(page.get_by_role("link", name="Email notifications"))
    box = page.get_by_label("Email me when it is my turn")
    assert box.is_checked()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts / f"notifications-{width}.png", full_page=True)
        assert violations(page) == []
    box.uncheck()
    follow(page.get_by_role("button", name="Save"))
    assert "workflow emails are off" in page.locator(".messagelist").inner_text()
    assert not page.get_by_label("Email me when it is my turn").is_checked()
