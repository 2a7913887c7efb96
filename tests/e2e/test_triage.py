"""A reader uses the symptom check in Chromium without JavaScript, one question per page; axe checks the pages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.browsing import follow

pytestmark = pytest.mark.browser

URL = "/triage/numbness-tingling-weakness-amlodipine/"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def answer(page, choice: str) -> None:
    """Answer the question on this page and continue."""
    page.locator("fieldset.question").get_by_label(choice, exact=True).check()
    follow(page.get_by_role("button", name="Continue"))


def question_key(page) -> str:
    return page.locator("fieldset.question").get_attribute("id").removeprefix("question-")


def answer_until(page, key: str) -> None:
    """Answer "no" until the question ``key`` is shown."""
    for _ in range(20):
        if question_key(page) == key:
            return
        answer(page, "No")
    raise AssertionError(f"never asked {key}")


def assert_no_axe_violations(page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def reader(browser, demo_site):
    context = browser.new_context(base_url=demo_site.url, java_script_enabled=False, viewport=PHONE)
    yield context.new_page()
    context.close()


def test_yes_to_the_first_red_flag_shows_the_emergency_result_on_the_next_page(reader, artifacts):
    reader.goto(URL)
    expect(reader.get_by_text("Question 1 of at most 12")).to_be_visible()
    reader.screenshot(path=artifacts / "triage-question-phone.png", full_page=True)
    answer(reader, "Yes")
    result = reader.get_by_role("region", name="Call the emergency number now")
    expect(result).to_be_visible()
    call = result.get_by_role("link", name="999")
    assert call.get_attribute("href") == "tel:999"
    expect(call).to_be_visible()
    assert "?" not in reader.url  # the answers went in the POST body
    expect(reader.get_by_text("Do not stop taking your medicine without talking to your doctor.")).to_be_visible()
    expect(reader.get_by_text("This is not a diagnosis.")).to_be_visible()
    reader.screenshot(path=artifacts / "triage-emergency-phone.png", full_page=True)


def test_all_no_ends_in_the_fallback(reader, artifacts):
    reader.goto(URL)
    for number in range(1, 13):
        expect(reader.get_by_text(f"Question {number} of at most 12")).to_be_visible()
        answer(reader, "No")
    heading = reader.get_by_role("heading", level=1)
    assert heading.inner_text() == "Talk to your doctor or pharmacist if you are worried"
    assert reader.get_by_role("link", name="111").get_attribute("href") == "tel:111"


def test_back_and_change_your_answers(reader, artifacts):
    reader.goto(URL)
    answer(reader, "No")
    follow(reader.get_by_role("button", name="Back"))
    assert question_key(reader) == "stroke"
    assert reader.locator("fieldset.question").get_by_label("No", exact=True).is_checked()
    answer(reader, "No")
    answer_until(reader, "numbness-or-tingling")
    answer(reader, "Yes")
    assert reader.get_by_role("heading", level=1).inner_text() == "See your doctor in the next few days"
    follow(reader.get_by_role("button", name="Change your answer to: Have you had any of these signs of a stroke"))
    assert question_key(reader) == "stroke"
    answer(reader, "Yes")
    assert reader.get_by_role("heading", level=1).inner_text() == "Call the emergency number now"


def test_an_unanswered_question_is_explained(reader, artifacts):
    reader.goto(URL)
    follow(reader.get_by_role("button", name="Continue"))
    expect(reader.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert question_key(reader) == "stroke"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_triage_pages_have_no_accessibility_violations(browser, demo_site, artifacts, viewport):
    context = browser.new_context(base_url=demo_site.url, viewport=viewport)
    page = context.new_page()
    try:
        page.goto("/triage/")
        assert_no_axe_violations(page)
        page.goto(URL)
        assert_no_axe_violations(page)  # a question
        follow(page.get_by_role("button", name="Continue"))  # the error
        page.wait_for_selector(".error-summary")
        assert_no_axe_violations(page)
        answer(page, "No")
        assert_no_axe_violations(page)  # a question with Back
        for key in ("stroke", "yellow-skin-or-eyes", "poor-balance", None):
            page.goto(URL)
            if key is None:
                for _ in range(12):
                    answer(page, "No")
            else:
                answer_until(page, key)
                answer(page, "Yes")
            page.wait_for_selector(".result")
            assert_no_axe_violations(page)
        page.screenshot(path=artifacts / f"triage-result-{viewport['width']}.png", full_page=True)
    finally:
        context.close()


PATHWAYS = ("/triage/numbness-tingling-weakness-amlodipine/", "/triage/swollen-ankles-feet-legs-amlodipine/")


def walk_to_result(page, yes_at: int | None, *, check_questions: bool) -> list[str]:
    """Answer "No" to every question but the ``yes_at``-th (from 0); axe the result (and each question
    page, if ``check_questions``); the keys asked."""
    asked: list[str] = []
    for _ in range(20):
        if page.locator(".result").count():
            assert_no_axe_violations(page)
            return asked
        asked.append(question_key(page))
        if check_questions:
            assert_no_axe_violations(page)
        answer(page, "Yes" if len(asked) - 1 == yes_at else "No")
    raise AssertionError("no result after 20 questions")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_question_and_every_result_of_both_pathways_passes_axe(browser, demo_site, viewport):
    """Issue 11's acceptance: every question page of each demo pathway, and the result after a "yes" at each
    question (each disposition it can reach) and after all "no", at both widths."""
    # axe runs as a script in the page, so JavaScript is on here; the pages use none (test above, without it).
    context = browser.new_context(base_url=demo_site.url, viewport=viewport)
    page = context.new_page()
    try:
        for url in PATHWAYS:
            page.goto(url)
            every_question = walk_to_result(page, yes_at=None, check_questions=True)
            assert len(every_question) >= 5, (url, every_question)
            for position in range(len(every_question)):
                page.goto(url)
                walk_to_result(page, yes_at=position, check_questions=False)
    finally:
        context.close()
