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


SWOLLEN = "/triage/swollen-ankles-feet-legs-amlodipine/"
FALLBACK = "Talk to your doctor or pharmacist if you are worried"
EMERGENCY = "Call the emergency number now"
# Each demo pathway as a reader walks it: its address, its number of questions, its first red flag,
# a question whose "yes" (all else "no") gives a less urgent result, and that result.
WALKS = [
    pytest.param(
        URL,
        12,
        "stroke",
        "Have you had any of these signs of a stroke",
        "numbness-or-tingling",
        "See your doctor in the next few days",
        id="numbness",
    ),
    pytest.param(
        SWOLLEN,
        6,
        "mouth-or-throat-swelling",
        "Do you have sudden swelling of your lips, mouth, tongue or throat?",
        "both-ankles-or-feet",
        "Mention the swelling to your doctor or pharmacist",
        id="swollen-ankles",
    ),
]
WALK_ARGS = "url, total, first, first_text, milder, milder_title"


@pytest.mark.parametrize(WALK_ARGS, WALKS)
def test_yes_to_the_first_red_flag_shows_the_emergency_result_on_the_next_page(
    reader, artifacts, url, total, first, first_text, milder, milder_title
):
    reader.goto(url)
    expect(reader.get_by_text(f"Question 1 of at most {total}")).to_be_visible()
    assert question_key(reader) == first
    name = url.strip("/").split("/")[-1]
    reader.screenshot(path=artifacts / f"triage-question-phone-{name}.png", full_page=True)
    answer(reader, "Yes")
    result = reader.get_by_role("region", name=EMERGENCY)
    expect(result).to_be_visible()
    call = result.get_by_role("link", name="999")
    assert call.get_attribute("href") == "tel:999"
    expect(call).to_be_visible()
    assert "?" not in reader.url  # the answers went in the POST body
    expect(reader.get_by_text("Do not stop taking your medicine without talking to your doctor.")).to_be_visible()
    expect(reader.get_by_text("This is not a diagnosis.")).to_be_visible()
    reader.screenshot(path=artifacts / f"triage-emergency-phone-{name}.png", full_page=True)


@pytest.mark.parametrize(WALK_ARGS, WALKS)
def test_all_no_ends_in_the_fallback(reader, artifacts, url, total, first, first_text, milder, milder_title):
    reader.goto(url)
    for number in range(1, total + 1):
        expect(reader.get_by_text(f"Question {number} of at most {total}")).to_be_visible()
        answer(reader, "No")
    heading = reader.get_by_role("heading", level=1)
    assert heading.inner_text() == FALLBACK
    assert reader.get_by_role("link", name="111").first.get_attribute("href") == "tel:111"
    assert reader.get_by_role("link", name="999").first.get_attribute("href") == "tel:999"


@pytest.mark.parametrize(WALK_ARGS, WALKS)
def test_back_and_change_your_answers(reader, artifacts, url, total, first, first_text, milder, milder_title):
    reader.goto(url)
    answer(reader, "No")
    follow(reader.get_by_role("button", name="Back"))
    assert question_key(reader) == first
    assert reader.locator("fieldset.question").get_by_label("No", exact=True).is_checked()
    answer(reader, "No")
    answer_until(reader, milder)
    answer(reader, "Yes")
    assert reader.get_by_role("heading", level=1).inner_text() == milder_title
    follow(reader.get_by_role("button", name=f"Change your answer to: {first_text}"))
    assert question_key(reader) == first
    assert reader.locator("fieldset.question").get_by_label("No", exact=True).is_checked()
    answer(reader, "Yes")
    assert reader.get_by_role("heading", level=1).inner_text() == EMERGENCY


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_the_browsers_own_back_button_returns_to_the_last_question_and_the_result(browser, demo_site, javascript):
    """A frightened reader presses the phone's Back, not the page's: each question and the result came from a form's
    POST, and kept by no cache (no-store) the browser had nothing to go back to ("Confirm Form Resubmission",
    ERR_CACHE_MISS), an emergency result included."""
    context = browser.new_context(base_url=demo_site.url, java_script_enabled=javascript, viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(SWOLLEN)
        answer(page, "No")
        second = question_key(page)
        answer(page, "No")
        third = question_key(page)
        page.go_back()
        assert question_key(page) == second
        page.go_forward()
        assert question_key(page) == third
        answer(page, "Yes")  # a less urgent result, or the emergency one: either way a result page
        result = page.get_by_role("heading", level=1).inner_text()
        follow(page.get_by_role("link", name="Medication Safety Library"))  # away, as "Read more" would
        page.go_back()
        assert page.get_by_role("heading", level=1).inner_text() == result
    finally:
        context.close()


TAP_TARGET = 44  # px: the smallest target a reader on a phone can hit reliably (WCAG 2.5.5)


def test_the_answers_the_number_to_call_and_change_are_big_enough_to_tap_on_a_phone(reader):
    reader.goto(SWOLLEN)
    for choice in ("Yes", "No"):
        box = reader.locator("fieldset.question").locator("label", has_text=choice).bounding_box()
        assert box["width"] >= TAP_TARGET and box["height"] >= TAP_TARGET, (choice, box)
    answer(reader, "Yes")
    box = reader.get_by_role("region", name=EMERGENCY).get_by_role("link", name="999").bounding_box()
    assert box["width"] >= TAP_TARGET and box["height"] >= TAP_TARGET, box
    box = reader.get_by_role("button", name="Change your answer to").bounding_box()
    assert box["height"] >= TAP_TARGET, box


def test_every_number_to_call_is_big_enough_to_tap_on_a_phone(reader):
    """Not only the big number of a result: the 999 and 111 in the notice above every question, and the 999 under an
    urgent result, were 32 to 36 px wide and 20 px tall."""
    reader.goto(SWOLLEN)
    pages = [("question", reader.locator("a[href^='tel:']").all())]
    answer_until(reader, "both-ankles-or-feet")
    answer(reader, "Yes")
    pages.append(("result", reader.locator("a[href^='tel:']").all()))
    for name, links in pages:
        assert links, name
        for link in links:
            box = link.bounding_box()
            assert box["width"] >= TAP_TARGET and box["height"] >= TAP_TARGET, (name, link.inner_text(), box)


# Links and buttons a reader taps on their own: not words in a sentence (WCAG 2.5.8 exempts those), but a link that
# is all of its line (a breadcrumb's step, 'Start again', a symptom in the list, the site's name) and every button.
TAPPED_ON_THEIR_OWN = """() => [...document.querySelectorAll("a[href], button")]
    .filter((e) => e.getClientRects().length && !e.closest(".skip-link"))
    .filter((e) => e.tagName === "BUTTON" || e.parentElement.textContent.trim() === e.textContent.trim())
    .map((e) => { const r = e.getBoundingClientRect(); return [e.textContent.trim(), r.width, r.height]; })"""


def test_every_link_or_button_tapped_on_its_own_is_big_enough_on_a_phone(reader):
    """Found from outside at 390 px, measuring what a reader taps between the list of checks, a question and the
    result: 'Start again' and the breadcrumb's steps were 19-20 px tall, the symptoms in the list of checks 39 px,
    the site's name 25 px; a shaky thumb on a small phone misses them or hits the next one."""
    reader.goto("/triage/")
    pages = [("list", reader.evaluate(TAPPED_ON_THEIR_OWN))]
    reader.goto(SWOLLEN)
    pages.append(("question", reader.evaluate(TAPPED_ON_THEIR_OWN)))
    answer(reader, "Yes")
    pages.append(("result", reader.evaluate(TAPPED_ON_THEIR_OWN)))
    small = [(name, *target) for name, targets in pages for target in targets if min(target[1:]) < TAP_TARGET]
    assert small == []
    assert all(targets for _, targets in pages)


def test_an_unanswered_question_is_explained(reader, artifacts):
    reader.goto(URL)
    follow(reader.get_by_role("button", name="Continue"))
    expect(reader.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert question_key(reader) == "stroke"


PATHWAYS = (URL, SWOLLEN)
ARTICLE = "/articles/amlodipine-peripheral-neuropathy/"
# Each demo pathway's dispositions, every one of which a single "yes" or all "no" reaches.
DISPOSITIONS = {
    URL: {EMERGENCY, "Get medical help today", "See your doctor in the next few days", FALLBACK},
    SWOLLEN: {EMERGENCY, "Get medical help today", "Mention the swelling to your doctor or pharmacist", FALLBACK},
}


def walk_every_question(page) -> list[str]:
    """Answer "No" to every question, axe each question page and the result; the keys asked, in order."""
    asked: list[str] = []
    for _ in range(20):
        if page.locator(".result").count():
            assert_no_axe_violations(page)
            return asked
        asked.append(question_key(page))
        assert_no_axe_violations(page)
        answer(page, "No")
    raise AssertionError("no result after 20 questions")


# Post, from the first question's page, what its form would carry by the time the reader reached ``asked``.
POST_ANSWERS_SO_FAR = """([answers, asked]) => {
    const form = document.querySelector("form.triage-form");
    form.querySelectorAll("fieldset.question input").forEach((input) => input.remove());
    form.querySelector("input[name=asked]").value = asked;
    for (const [name, value] of answers) {
        const input = document.createElement("input");
        Object.assign(input, {type: "hidden", name, value});
        form.append(input);
    }
}"""


def result_after_yes_at(page, url: str, order: list[str], position: int) -> str:
    """The result after "No" to the questions before ``order[position]`` and "Yes" to it, axed; its heading.

    One POST instead of walking every page again (``walk_every_question`` walks them all; the tests
    above walk them without JavaScript): the same form fields the pages would have carried.
    """
    page.goto(url)
    answers = [[key, "no"] for key in order[:position]] + [[order[position], "yes"]]
    page.evaluate(POST_ANSWERS_SO_FAR, [answers, order[position]])
    follow(page.get_by_role("button", name="Continue"))
    page.wait_for_selector(".result")
    assert_no_axe_violations(page)
    return page.get_by_role("heading", level=1).inner_text()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_triage_pages_have_no_accessibility_violations(browser, demo_site, artifacts, viewport):
    """Issue 11's acceptance, one browser context per width: the list, the demo article with its links to
    the checks, and for each demo pathway its error page, every question page, and the result after a
    "yes" at each question and after all "no" (every disposition it has)."""
    # axe runs as a script in the page, so JavaScript is on here; the pages use none (tests above, without it).
    context = browser.new_context(base_url=demo_site.url, viewport=viewport)
    page = context.new_page()
    width = viewport["width"]
    try:
        page.goto("/triage/")
        assert_no_axe_violations(page)
        page.screenshot(path=artifacts / f"triage-finder-{width}.png", full_page=True)
        page.goto(ARTICLE)
        assert_no_axe_violations(page)  # with its links to the checks
        page.screenshot(path=artifacts / f"article-checks-{width}.png", full_page=True)
        for url in PATHWAYS:
            page.goto(url)
            follow(page.get_by_role("button", name="Continue"))  # the error
            page.wait_for_selector(".error-summary")
            assert_no_axe_violations(page)
            page.goto(url)
            every_question = walk_every_question(page)
            assert len(every_question) >= 5, (url, every_question)
            seen = {page.get_by_role("heading", level=1).inner_text()}  # all "no"
            for position in range(len(every_question)):
                seen.add(result_after_yes_at(page, url, every_question, position))
                if position == 0:
                    name = url.strip("/").split("/")[-1]
                    page.screenshot(path=artifacts / f"triage-emergency-{name}-{width}.png", full_page=True)
            assert seen == DISPOSITIONS[url]
    finally:
        context.close()


def test_the_emergency_result_fits_a_phone_with_the_text_twice_as_large(page, demo_site, artifacts):
    """The heading "Call the emergency number now" was cut off at the edge of the screen at 200% text, and the
    page scrolled sideways: the one instruction that matters most, for a reader who needs large text."""
    page.set_viewport_size(PHONE)
    page.goto(demo_site.url + URL)
    answer(page, "Yes")
    page.evaluate("document.documentElement.style.fontSize = '200%'")  # as the phone's text size would
    expect(page.get_by_role("region", name=EMERGENCY)).to_be_visible()
    page.screenshot(path=artifacts / "triage-emergency-phone-200-percent.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_after_an_unanswered_question_the_keyboard_starts_at_the_error_summary(reader, artifacts):
    """Found from outside, by keyboard: Continue with nothing chosen reloaded the page with focus at its top, so the
    next Tab went to the skip link and the header; the summary (tabindex="-1", there to be focused) was never
    focused, and a reader had to Tab past the header and the notices to reach what went wrong."""
    reader.goto(URL)
    reader.get_by_role("button", name="Continue").focus()
    with reader.expect_navigation():
        reader.keyboard.press("Enter")
    expect(reader.locator(".error-summary")).to_be_focused()
    reader.screenshot(path=artifacts / "triage-error-focused-phone.png")
    reader.keyboard.press("Tab")
    expect(reader.get_by_role("link", name="Answer this question.")).to_be_focused()
    reader.keyboard.press("Enter")
    reader.keyboard.press("Tab")
    expect(reader.get_by_label("Yes", exact=True)).to_be_focused()


@pytest.mark.parametrize(
    ("url", "answers", "number"), [(URL, ["Yes"], "999"), (SWOLLEN, ["No", "No", "No", "Yes"], "111")]
)
def test_the_keyboard_and_a_screen_reader_start_at_the_result(reader, artifacts, url, answers, number):
    """Found from outside, by keyboard: a result page opened with focus at its top, like any page, so a screen reader
    began with the site's name and links and the next Tab went to the skip link and the header, not to what to do.
    Focus starts on the result (as on the error summary), which is read first; the next Tab is its number to call."""
    reader.goto(url)
    for choice in answers:
        answer(reader, choice)
    result = reader.locator(".result")
    expect(result).to_be_focused()
    reader.screenshot(path=artifacts / f"triage-result-focused-{number}.png")
    reader.keyboard.press("Tab")
    expect(result.get_by_role("link", name=number)).to_be_focused()


def test_the_emergency_result_keeps_its_box_in_forced_colours(reader, artifacts):
    """Found from outside, in forced colours (Windows' contrast themes): the result's coloured background is the
    only thing that set it apart, and forced colours remove it, so "Call the emergency number now" sat on the page
    like any other heading, with no box around it."""
    reader.emulate_media(forced_colors="active")
    reader.goto(URL)
    answer(reader, "Yes")
    result = reader.get_by_role("region", name=EMERGENCY)
    reader.screenshot(path=artifacts / "triage-emergency-forced-colours.png")
    border = result.evaluate(
        "e => { const s = getComputedStyle(e);"
        " return [s.borderTopStyle, parseFloat(s.borderTopWidth), s.borderTopColor] }"
    )
    assert border[0] == "solid" and border[1] >= 3, border
    assert border[2] not in ("transparent", "rgba(0, 0, 0, 0)"), border


def test_a_printed_emergency_result_shows_the_number_to_call(reader, artifacts):
    """Found from outside, printing the emergency result (emulate_media print): it read "Call      now."; the
    number's link stays white on the result's coloured background, and print drops the background, so 999 was
    white on white paper."""
    reader.goto(URL)
    answer(reader, "Yes")
    reader.emulate_media(media="print")
    result = reader.get_by_role("region", name=EMERGENCY)
    result.screenshot(path=artifacts / "triage-emergency-print.png")
    number = result.get_by_role("link", name="999")
    assert number.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"
