"""Every admin page of the workflow in Chromium, at 1280 px and at 390 px: axe finds nothing, and
nothing scrolls sideways but a table inside its own box.

The author, the clinical reviewer and the publisher each walk their part of the workflow in
their own browser context, one revision going from draft to scheduled on the way; an
administrator opens what only administrators see; someone not signed in sees the log-in and
lockout pages.
"""

from __future__ import annotations

import datetime
import functools

import pytest
from axe_playwright_python.sync_playwright import Axe
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from articles import services
from articles.demo.loading import DEMO_PASSWORD
from articles.models import Revision
from contentsite.models import PendingInvalidation
from feedback import services as feedback_services
from tests.conftest import approve

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LOCKED_OUT = "locked-out-editor"

# The outermost elements that reach past the right edge of the window, to say what makes a page scroll.
TOO_WIDE = """(width) => {
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    (e.classList.length ? "." + [...e.classList].join(".") : "");
  const found = [];
  const ancestors = function* (e) {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) yield a;
  };
  const scrolls = (e) => ["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(e).overflowX);
  for (const e of document.body.querySelectorAll("*")) {
    if (e.getBoundingClientRect().right <= width + 0.5) continue;
    if ([...ancestors(e)].some(scrolls)) continue;
    if (found.some((outer) => outer.contains(e))) continue;
    found.push(e);
  }
  const deepest = found.map((e) => {
    let inner = e;
    for (;;) {
      const child = [...inner.children].find((c) => c.getBoundingClientRect().right > width + 0.5);
      if (!child) break;
      inner = child;
    }
    return name(e) + " ... " + name(inner);
  });
  return deepest.slice(0, 5);
}"""


class Walk:
    """One role's pages: each is checked as it is opened, and what is wrong is collected, not raised."""

    def __init__(self, browser, base_url: str, viewport: dict[str, int], artifacts, who: str) -> None:
        self.context = browser.new_context(base_url=base_url, viewport=viewport)
        self.page = self.context.new_page()
        self.width = viewport["width"]
        self.artifacts = artifacts
        self.who = who
        self.problems: dict[str, list[str]] = {}

    def sign_in(self, username: str) -> None:
        self.page.goto("/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        with self.page.expect_navigation():
            self.page.click("input[type=submit]")
        assert self.page.url.endswith("/admin/"), f"{username} could not sign in"

    def visit(self, name: str, path: str, *, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response is not None
        self.check(name, status=response.status, expected=status)

    def check(self, name: str, *, status: int, expected: int = 200) -> None:
        page = self.page
        found = []
        if status != expected:
            found.append(f"status {status}, not {expected}")
        results = Axe().run(page)
        found += [f"axe {v['id']}: {[node['target'] for node in v['nodes']]}" for v in results.response["violations"]]
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > self.width:
            wide = page.evaluate(TOO_WIDE, self.width)
            found.append(f"scrolls sideways: {scroll_width} px wide in a {self.width} px window, past the edge: {wide}")
        page.screenshot(path=self.artifacts / f"admin-a11y-{self.who}-{name}-{self.width}.png", full_page=True)
        if found:
            self.problems[f"{self.who}: {name} ({page.url})"] = found

    def close(self) -> None:
        self.context.close()


def walk_signed_in(
    browser, base_url: str, viewport: dict[str, int], artifacts, who: str, username: str, pages: dict[str, str]
) -> dict[str, list[str]]:
    """``username`` signs in and opens the dashboard, then each of ``pages`` (name: path) in turn; what is wrong."""
    walk = Walk(browser, base_url, viewport, artifacts, who)
    try:
        walk.sign_in(username)
        walk.check("dashboard", status=200)
        for name, path in pages.items():
            walk.visit(name, path)
        return walk.problems
    finally:
        walk.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_admin_page_of_the_workflow_is_accessible(browser, demo_site, artifacts, viewport):
    users = get_user_model().objects
    author, reviewer = users.get(username="demo-author"), users.get(username="demo-reviewer")
    live = Revision.objects.get(article__slug="amlodipine-peripheral-neuropathy")
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    pathway = Revision.objects.get(article__slug="swollen-ankles-feet-legs-amlodipine")
    table = draft.comparison_tables.first()
    assert table is not None, "the demo article has a comparison table"
    feedback_services.feedback_submit(revision=live, helpful=False, reason="out_of_date", text="The dose changed.")
    revision = f"/admin/articles/revision/{draft.pk}"
    problems: dict[str, list[str]] = {}

    walk = Walk(browser, demo_site.url, viewport, artifacts, "author")
    try:
        walk.visit("login", "/admin/login/")
        walk.sign_in("demo-author")
        walk.check("dashboard", status=200)
        walk.visit("articles", "/admin/articles/article/")
        walk.visit("article", f"/admin/articles/article/{live.article.pk}/change/")
        walk.visit("revisions", "/admin/articles/revision/")
        walk.visit("draft", f"{revision}/change/")
        walk.visit("history", f"{revision}/history/")
        walk.visit("pathway", f"/admin/articles/revision/{pathway.pk}/change/")
        walk.visit("new-article", "/admin/articles/article/add/")
        walk.visit("preview", f"{revision}/preview/")
        walk.visit("comparison-table", f"/admin/articles/comparisontable/{table.pk}/change/")
        walk.visit("feedback", "/admin/feedback/feedback/")
        walk.visit("notifications", "/admin/notifications/")
        walk.visit("audit-log", "/admin/articles/auditentry/")
        walk.visit("password-change", "/admin/password_change/")
        # Authors do not review: the review queue is not theirs to open.
        walk.visit("forbidden", "/admin/articles/reviewqueueitem/", status=403)
        # The refusal's way out to another account: log out.
        with walk.page.expect_navigation() as navigation:
            walk.page.get_by_role("button", name="Log out").click()
        walk.check("logged-out", status=navigation.value.status)
        problems |= walk.problems
    finally:
        walk.close()
    services.revision_submit(revision=draft, actor=author, change_summary="Plainer wording.")

    signed_in = functools.partial(walk_signed_in, browser, demo_site.url, viewport, artifacts)
    problems |= signed_in(
        "reviewer",
        "demo-reviewer",
        {
            "review-queue": "/admin/articles/reviewqueueitem/",
            "overdue": "/admin/articles/overduereview/",
            "in-review": f"{revision}/change/",
            "diff": f"{revision}/diff/",
        },
    )
    approved = approve(draft, reviewer)
    publisher = users.get(username="demo-publisher")
    services.revision_publish(
        revision=approved, actor=publisher, publish_at=timezone.now() + datetime.timedelta(days=7)
    )

    problems |= signed_in(
        "publisher",
        "demo-publisher",
        {"scheduled": "/admin/articles/scheduledpublication/", "scheduled-revision": f"{revision}/change/"},
    )

    # What committed changes still owe the cache and proxy, which only administrators see.
    owed = PendingInvalidation.objects.create(
        cache_keys=[f"live:article:{live.article.slug}"], proxy_keys=[f"article-{live.article.pk}"]
    )
    problems |= signed_in(
        "administrator",
        "demo-admin",
        {
            "pending-invalidations": "/admin/contentsite/pendinginvalidation/",
            "pending-invalidation": f"/admin/contentsite/pendinginvalidation/{owed.pk}/change/",
        },
    )

    # The lockout page: the user name has failed often enough from elsewhere.
    AccessAttempt.objects.create(
        username=LOCKED_OUT,
        ip_address="192.0.2.10",
        user_agent="elsewhere",
        path_info="/admin/login/",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
    )
    walk = Walk(browser, demo_site.url, viewport, artifacts, "visitor")
    try:
        walk.page.goto("/admin/login/")
        walk.page.fill("#id_username", LOCKED_OUT)
        walk.page.fill("#id_password", "any-password")
        with walk.page.expect_navigation() as navigation:
            walk.page.click("input[type=submit]")
        walk.check("lockout", status=navigation.value.status, expected=429)
        problems |= walk.problems
    finally:
        walk.close()

    assert problems == {}, "\n".join(f"{page}: {found}" for page, found in problems.items())
