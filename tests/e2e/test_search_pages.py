"""Search and symptom pages in Chromium: no axe-core violations at 1280 and 390 px, usable without JavaScript."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import follow, text_twice_as_large
from tests.e2e.test_public_pages import assert_no_axe_violations

pytestmark = pytest.mark.browser

PAGES = [
    ("/search/?q=pins+and+needles", "search-results"),
    ("/search/?q=zebrafish", "search-nothing-found"),
    ("/search/?q=amlodopine", "search-suggestion"),
    ("/search/", "search-empty"),
    ("/symptoms/numbness-or-pins-and-needles/", "symptom"),
]


@pytest.mark.parametrize(("path", "name"), PAGES)
def test_search_and_symptom_pages_have_no_accessibility_violations(page, demo_site, artifacts, path, name):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(demo_site.url + path)
    assert_no_axe_violations(page)
    page.screenshot(path=artifacts / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_no_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    page.screenshot(path=artifacts / f"{name}-phone.png", full_page=True)
    assert errors == []


@pytest.mark.parametrize("java_script_enabled", [False])
def test_a_reader_follows_the_suggestion_and_a_symptom_link_without_javascript(browser, demo_site, java_script_enabled):
    context = browser.new_context(java_script_enabled=java_script_enabled)
    page = context.new_page()
    page.goto(demo_site.url + "/search/")
    page.get_by_label("Search articles").fill("amlodopine")
    follow(page.get_by_role("button", name="Search"))
    follow(page.get_by_role("link", name="amlodipine", exact=True))
    assert page.locator("mark").first.inner_text().lower() == "amlodipine"
    follow(page.get_by_role("link", name="Amlodipine and peripheral neuropathy (nerve damage)"))
    follow(page.get_by_role("link", name="Articles that mention Muscle weakness or cramping"))
    assert page.get_by_role("heading", level=1).inner_text() == "Muscle weakness or cramping"
    context.close()


def test_the_search_box_has_room_for_a_word_on_a_narrow_phone_with_the_text_twice_as_large(page, demo_site, artifacts):
    """Found from outside at 320 px with the root font at 200%: the header's search box shrank to 62 px beside its
    button, room for two letters of what the reader typed; the button now goes under it when both do not fit."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(demo_site.url + "/")
    text_twice_as_large(page)
    page.locator(".site-header").screenshot(path=artifacts / "header-320-200-percent.png")
    box = page.get_by_role("searchbox", name="Search articles").bounding_box()
    assert box is not None and box["width"] >= 200, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("document.documentElement.style.fontSize = ''")
    field = page.get_by_role("searchbox", name="Search articles").bounding_box()
    button = page.get_by_role("button", name="Search").bounding_box()
    assert field["y"] == button["y"], (field, button)  # at the usual text size, side by side as before
