"""A reader uses the symptom check in Chromium with JavaScript switched off; axe-core checks the pages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser

URL = "/triage/numbness-tingling-weakness-amlodipine/"


def answer(page, yes: set[str]) -> None:
    """Answer every question: yes to those in ``yes``, no to the rest, then submit."""
    for fieldset in page.locator("fieldset.question").all():
        key = fieldset.get_attribute("id").removeprefix("question-")
        fieldset.get_by_label("Yes" if key in yes else "No", exact=True).check()
    page.get_by_role("button", name="See what to do").click()


def assert_no_axe_violations(page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def reader(browser, demo_site):
    context = browser.new_context(base_url=demo_site.url, java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_a_stroke_sign_gives_the_emergency_result_without_javascript(reader, artifacts, settings):
    reader.goto(URL)
    answer(reader, {"stroke", "numbness-or-tingling"})
    result = reader.get_by_role("region", name="Call the emergency number now")
    assert result.is_visible()
    assert "In an emergency, call 999" in result.inner_text()
    assert reader.get_by_text("Do not stop taking your medicine without talking to your doctor.").is_visible()
    assert reader.get_by_text("This is not a diagnosis.").is_visible()
    reader.screenshot(path=artifacts / "triage-emergency.png", full_page=True)


def test_gradual_tingling_only_gets_see_your_doctor(reader, artifacts):
    reader.goto(URL)
    answer(reader, {"numbness-or-tingling"})
    assert reader.get_by_role("heading", level=1).inner_text() == "See your doctor in the next few days"
    assert reader.get_by_role("link", name="Amlodipine and peripheral neuropathy (nerve damage)").is_visible()
    reader.screenshot(path=artifacts / "triage-see-doctor.png", full_page=True)


def test_unanswered_questions_are_explained(reader):
    reader.goto(URL)
    reader.get_by_role("button", name="See what to do").click()
    assert reader.get_by_role("heading", name="There is a problem").is_visible()


def test_form_and_result_pages_have_no_accessibility_violations(page, demo_site, artifacts):
    page.goto(demo_site.url + "/triage/")
    assert_no_axe_violations(page)
    page.goto(demo_site.url + URL)
    assert_no_axe_violations(page)
    page.get_by_role("button", name="See what to do").click()  # the error summary
    page.wait_for_selector(".error-summary")
    assert_no_axe_violations(page)
    for yes in ({"stroke"}, {"yellow-skin-or-eyes"}, {"poor-balance"}, set()):
        page.goto(demo_site.url + URL)
        answer(page, yes)
        page.wait_for_selector(".result")
        assert_no_axe_violations(page)
    page.set_viewport_size({"width": 375, "height": 800})
    assert_no_axe_violations(page)
    page.screenshot(path=artifacts / "triage-result-phone.png", full_page=True)
