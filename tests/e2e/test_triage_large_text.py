"""The symptom check on a small phone with the browser's text size at 200% (Chromium's own font-size setting, 32 px,
set before the pages load: tests.e2e.browsing.browser_text_size), JavaScript off as the pages need none.

A frightened reader who has answered "yes" to a warning sign must see what to do, and the number to call, without
scrolling, reading or tabbing past anything else first."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import bottom_in_page, browser_text_size, top_in_page, words_split_across_lines
from tests.e2e.test_triage import EMERGENCY, FALLBACK, SWOLLEN, URL, answer

pytestmark = pytest.mark.browser

SMALL = {"width": 320, "height": 640}  # a small phone: iPhone SE (1st generation), 4-inch Android phones
PHONE = {"width": 390, "height": 844}
SCREENS = [pytest.param(SMALL, id="320"), pytest.param(PHONE, id="390")]
PATHWAYS = [pytest.param(URL, id="numbness"), pytest.param(SWOLLEN, id="swollen-ankles")]


@pytest.fixture
def large_text_reader(browser, demo_site, request):
    context = browser.new_context(base_url=demo_site.url, java_script_enabled=False, viewport=request.param)
    page = context.new_page()
    browser_text_size(page, 200)
    yield page
    context.close()


def shot(page, artifacts, name: str) -> None:
    width = page.viewport_size["width"]
    page.screenshot(path=artifacts / f"{name}-{width}-text-200.png")


@pytest.mark.parametrize("large_text_reader", SCREENS, indirect=True)
@pytest.mark.parametrize("url", PATHWAYS)
def test_the_call_now_result_and_its_number_are_on_the_first_screen(large_text_reader, artifacts, url):
    """Found from outside at 320 x 640 with the text at 200%: the site's header (name, links, search) took the whole
    first screen and the breadcrumb half the next, so "Call the emergency number now" began 1,230 px down, and 999
    three screens down; at 390 x 844 the heading began below the first screen. Measured from the top of the page,
    whatever the browser scrolled to on its own."""
    page = large_text_reader
    page.goto(url)
    answer(page, "Yes")
    result = page.get_by_role("region", name=EMERGENCY)
    screen = page.viewport_size["height"]
    shot(page, artifacts, f"triage-emergency-first-screen-{url.strip('/').split('/')[-1]}")
    assert top_in_page(result.get_by_role("heading", level=1)) < screen / 2
    assert bottom_in_page(result.get_by_role("link", name="999")) <= screen


@pytest.mark.parametrize("large_text_reader", SCREENS, indirect=True)
def test_no_word_of_a_result_is_split_across_lines(large_text_reader, artifacts):
    """Found from outside at 320 and 390 px with the text at 200%: the result's heading was too big for its box, and
    read 'Call the emerg / ency numbe / r now' (at 320: 'emer / genc / y num / ber'); 'EMERGENC / Y' above it; and
    'Talk to your doctor or pharmaci / st'. A word broken mid-way is read as two, or not at all, by a frightened
    reader."""
    page = large_text_reader
    page.goto(URL)
    answer(page, "Yes")
    expect(page.get_by_role("heading", level=1)).to_have_text(EMERGENCY)
    shot(page, artifacts, "triage-emergency-words")
    assert words_split_across_lines(page, ".result") == []
    page.goto(URL)
    for _ in range(12):
        answer(page, "No")
    expect(page.get_by_role("heading", level=1)).to_have_text(FALLBACK)
    assert words_split_across_lines(page, ".result") == []


@pytest.mark.parametrize("large_text_reader", SCREENS, indirect=True)
def test_an_urgent_result_reads_its_heading_first_and_its_number_on_the_first_screen(large_text_reader, artifacts):
    """Found from outside at 320 x 640 with the text at 200%: on the urgent result ('Get medical help today') the
    sentence under the heading was 45 px to the heading's 34 px (at 390: 45 to 39), seven lines of it, so it
    outshouted the heading and pushed 111 off the first screen."""
    page = large_text_reader
    page.goto(SWOLLEN)
    for choice in ("No", "No", "No", "Yes"):  # swelling with breathlessness: same day
        answer(page, choice)
    result = page.get_by_role("region", name="Get medical help today")
    shot(page, artifacts, "triage-urgent-first-screen")
    heading, sentence = (
        result.locator(selector).evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        for selector in ("h1", ".result__call")
    )
    assert sentence <= heading
    screen = page.viewport_size["height"]
    assert bottom_in_page(result.get_by_role("heading", level=1)) <= screen
    if screen >= PHONE["height"]:  # at 320 x 640 the sentence still ends about 140 px below the first screen
        assert bottom_in_page(result.get_by_role("link", name="111")) <= screen
