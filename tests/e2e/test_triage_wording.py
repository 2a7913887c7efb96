"""The questions' lists of signs as a reader sees them (JavaScript off); axe: tests/e2e/test_triage.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NUMBNESS = "/triage/numbness-tingling-weakness-amlodipine/"
SWOLLEN = "/triage/swollen-ankles-feet-legs-amlodipine/"
STROKE_SIGNS = [
    "Your face has drooped on one side",
    "Sudden numbness or weakness on one side of your face",
    "Sudden numbness or weakness in one arm or one leg",
    "You cannot lift both arms",
    "Your speech is slurred",
]


@pytest.fixture
def phone_reader(browser, demo_site):
    context = browser.new_context(
        base_url=demo_site.url, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    yield context.new_page()
    context.close()


def test_the_stroke_question_lists_its_signs_at_phone_width(phone_reader, artifacts):
    phone_reader.goto(NUMBNESS)
    question = phone_reader.locator("fieldset", has_text="signs of a stroke")
    items = question.get_by_role("listitem")
    assert items.all_inner_texts() == STROKE_SIGNS
    for item in items.all():
        expect(item).to_be_visible()
    phone_reader.screenshot(path=artifacts / "triage-stroke-signs-phone.png", full_page=True)
