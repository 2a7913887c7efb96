"""A person who keeps getting the password wrong, in Chromium: the lockout page, then a release."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.e2e.browsing import follow

pytestmark = pytest.mark.browser

PASSWORD = "the-right-password-8c2d"


def submit(page, username: str, password: str):
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.click("input[type=submit]")
    return posted.value


def test_the_lockout_page_in_the_browser(page, live_server, transactional_db, artifacts):
    get_user_model().objects.create_user("locked-editor", "locked@example.org", PASSWORD, is_staff=True)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    missing: list[str] = []
    page.on(
        "response",
        lambda r: (
            missing.append(r.url) if r.status >= 400 and r.request.method == "GET" and "favicon" not in r.url else None
        ),
    )

    page.goto(live_server.url + "/admin/login/")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert submit(page, "locked-editor", f"wrong-{n}").status == 200
    assert submit(page, "locked-editor", "wrong-again").status == 429

    follow(page.get_by_role("link", name="Back to the log-in page"))
    response = submit(page, "locked-editor", PASSWORD)
    assert response.status == 429
    expect(page.get_by_role("heading", name="Too many failed log-in attempts")).to_be_visible()
    assert "Try again after" in page.locator("#content-main").inner_text()
    assert page.locator("#header").inner_text().strip().startswith("Clinical content administration")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    page.screenshot(path=artifacts / "login-lockout.png", full_page=True)
    # Nothing missing (the admin's styles load), and no error but the failed loads (the 429
    # itself, the favicon): no CSP violation.
    assert missing == []
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
