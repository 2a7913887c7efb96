"""A reader finds the right check by what they have noticed, in Chromium without JavaScript (axe on these pages:
tests/e2e/test_triage.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import fits_across, follow, text_twice_as_large
from tests.e2e.test_triage import PHONE, answer, answer_until

pytestmark = pytest.mark.browser

ARTICLE = "/articles/amlodipine-peripheral-neuropathy/"
NUMBNESS = "/triage/numbness-tingling-weakness-amlodipine/"


@pytest.fixture
def reader(browser, demo_site):
    context = browser.new_context(base_url=demo_site.url, java_script_enabled=False, viewport=PHONE)
    yield context.new_page()
    context.close()


def test_a_reader_finds_the_check_by_symptom_and_reads_on(reader, artifacts):
    reader.goto("/triage/")
    assert reader.get_by_role("heading", level=1).inner_text() == "What have you noticed?"
    signs = reader.get_by_role("region", name="Call 999 now if you have any of these")
    expect(signs).to_be_visible()
    assert signs.get_by_role("link", name="Call 999").get_attribute("href") == "tel:999"
    expect(signs.get_by_text("Do you have either of these chest problems?")).to_be_visible()
    symptoms = reader.get_by_role("region", name="Choose a symptom")
    # The signs that need no check come first, above the symptoms.
    assert signs.bounding_box()["y"] < symptoms.bounding_box()["y"]
    reader.screenshot(path=artifacts / "triage-finder-phone.png", full_page=True)

    follow(symptoms.get_by_role("link", name="Numbness or pins and needles (paresthesia)"))
    assert reader.url.endswith(NUMBNESS)
    answer_until(reader, "numbness-or-tingling")
    answer(reader, "Yes")
    assert reader.get_by_role("heading", level=1).inner_text() == "See your doctor in the next few days"
    read_more = reader.get_by_role("region", name="Read more")
    follow(read_more.get_by_role("link", name="Amlodipine").first)
    assert reader.url.endswith(ARTICLE)

    check = reader.get_by_role("region", name="Check your symptoms")
    expect(check).to_be_visible()
    follow(check.get_by_role("link").first)
    assert reader.url.endswith(NUMBNESS)


def test_a_swollen_ankle_is_found_under_its_own_symptom(reader):
    reader.goto("/triage/")
    follow(reader.get_by_role("region", name="Choose a symptom").get_by_role("link", name="Swollen ankles or feet"))
    assert reader.url.endswith("/triage/swollen-ankles-feet-legs-amlodipine/")
    expect(reader.get_by_text("Question 1 of at most")).to_be_visible()


def test_a_long_symptom_name_wraps_on_a_narrow_phone_with_the_text_twice_as_large(reader, artifacts):
    """Found from outside, at 320 px with the text at 200% (WCAG 1.4.10 and 1.4.4 together): "(paresthesia)" ran
    2 px past the screen's edge and the page scrolled sideways; the link is an inline block, as wide as its
    longest word, so the word could not break."""
    reader.set_viewport_size({"width": 320, "height": 640})
    reader.goto("/triage/")
    text_twice_as_large(reader)
    link = reader.get_by_role("link", name="Numbness or pins and needles (paresthesia)")
    link.scroll_into_view_if_needed()
    reader.screenshot(path=artifacts / "triage-finder-320-200-percent.png")
    fits_across(reader, link, 320)
