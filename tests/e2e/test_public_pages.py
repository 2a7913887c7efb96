"""Home and article pages in Chromium: accessible (axe-core), readable on a phone, printable."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.browsing import browser_text_size, words_split_across_lines
from tests.factories import article_document, changed

pytestmark = pytest.mark.browser

ARTICLE = "/articles/amlodipine-peripheral-neuropathy/"


def assert_no_axe_violations(page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize(("path", "name"), [("/", "home"), (ARTICLE, "article"), ("/no-such-page/", "not-found")])
def test_pages_have_no_accessibility_violations(page, demo_site, artifacts, path, name):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(demo_site.url + path)
    assert_no_axe_violations(page)
    page.screenshot(path=artifacts / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    assert_no_axe_violations(page)
    page.screenshot(path=artifacts / f"{name}-phone.png", full_page=True)
    # Only the deliberate 404 may log an error; nothing else (no CSP violation, no missing asset).
    assert [e for e in errors if "404" not in e] == []


def test_article_reads_well_on_a_phone_and_in_print(page, demo_site, artifacts):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(demo_site.url + ARTICLE)
    # Nothing but the table's own scroll region is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.get_by_role("heading", level=1).inner_text() == "Amlodipine and peripheral neuropathy (nerve damage)"
    table = page.get_by_role("table", name="Amlodipine vs. Other Causes of Neuropathy")
    assert table.get_by_role("rowheader").count() == 5
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    expect(page.get_by_text("Do not stop taking your medication on your own")).to_be_visible()
    page.pdf(path=str(artifacts / "article.pdf"))


def test_a_printed_article_says_where_it_came_from_and_leaves_out_the_page_controls(page, demo_site, artifacts):
    """Found from outside, printing the demo article as a reader would for their doctor: the page's address was
    nowhere on paper (a PDF or a print without the browser's headers has no way back to it), and the "Is this page
    helpful? Yes / No" buttons were printed, controls that do nothing on paper."""
    page.goto(demo_site.url + ARTICLE)
    page.emulate_media(media="print")
    page.pdf(path=str(artifacts / "article-printed.pdf"))
    page.screenshot(path=artifacts / "article-print.png", full_page=True)
    address = page.locator("link[rel=canonical]").get_attribute("href")
    assert address.endswith(ARTICLE)
    assert address in page.locator("body").inner_text()
    assert page.get_by_role("complementary", name="Clinical review").is_visible()  # the reviewer and the date
    assert page.locator(".feedback-ask").is_hidden()
    page.emulate_media(media="screen")
    assert address not in page.locator("body").inner_text()  # on screen the address bar says it


def test_a_printed_review_panel_is_plain_like_the_other_boxes(page, demo_site):
    """Found looking at the printed demo article: the demonstration reviewer's panel kept its yellow background on
    paper (with "background graphics" on), because its own rule came after the print rules that clear the boxes'
    backgrounds and won."""
    page.goto(demo_site.url + ARTICLE)
    page.emulate_media(media="print")
    panel = page.get_by_role("complementary", name="Clinical review")
    assert "review-panel--demo" in (panel.get_attribute("class") or "")
    assert panel.evaluate("element => getComputedStyle(element).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert panel.evaluate("element => getComputedStyle(element).borderLeftColor") == "rgb(0, 0, 0)"


@pytest.mark.parametrize("width", [320, 390])
def test_a_wide_table_says_what_it_is_in_full_on_a_phone(page, demo_site, width):
    """Found from outside: at 390 px the comparison table's caption sat inside its sideways-scrolling box, as wide as
    the table, and read "Amlodipine vs. Other Causes of Neu…"; it must be read whole without scrolling."""
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(demo_site.url + ARTICLE)
    caption = page.locator("table.comparison caption")
    box = caption.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert caption.evaluate("element => element.scrollWidth <= element.clientWidth")
    # Still the table's name, for those who hear it.
    assert page.get_by_role("table", name="Amlodipine vs. Other Causes of Neuropathy").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("text", [100, 200], ids=["text-100", "text-200"])
@pytest.mark.parametrize("width", [320, 390])
def test_a_comparison_table_shows_what_it_compares_on_a_phone(browser, demo_site, artifacts, width, text):
    """Found from outside at 320 px: the comparison table kept its 36rem (576 px) in a box that scrolls sideways, so
    the screen showed the row names and the first compared column cut off mid-word ('during treatmen'); with the text
    at 200% (the browser's own setting), only the row names ('Feature', 'Prevalence'), and no compared column at all,
    with nothing to say there was more to the right. On a phone each row is read down the screen instead: the row's
    name, then each compared column's name and its text; for a screen reader it is still a table."""
    context = browser.new_context(base_url=demo_site.url, viewport={"width": width, "height": 640})
    page = context.new_page()
    try:
        browser_text_size(page, text)
        page.goto(ARTICLE)
        table = page.get_by_role("table", name="Amlodipine vs. Other Causes of Neuropathy")
        table.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / f"article-table-{width}-text-{text}.png")
        assert table.get_by_role("columnheader").count() == 3
        assert table.get_by_role("rowheader").count() == 5
        cells = table.get_by_role("cell").all()
        assert len(cells) == 10
        for cell in cells:
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (cell.inner_text(), box)
        # Each compared text says which column it is in, on screen (the column headings are not above it).
        labels = [cell.evaluate("e => getComputedStyle(e, '::before').content") for cell in cells[:2]]
        assert "Amlodipine-Related Neuropathy" in labels[0] and "Other Common Causes of Neuropathy" in labels[1], labels
        # The row names have room for their words (a long word of a cell may still break at 320 px and 200%).
        assert words_split_across_lines(page, "table.comparison tbody th") == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()


def test_citation_links_reach_the_reference(page, demo_site):
    page.goto(demo_site.url + ARTICLE)
    page.locator("a.citation").first.click()
    assert page.url.endswith("#ref-diabetes-2025-amlodipine-dpn")
    expect(page.locator("#ref-diabetes-2025-amlodipine-dpn")).to_be_visible()


def test_skip_link_is_first_and_works_by_keyboard(page, demo_site):
    page.goto(demo_site.url + ARTICLE)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_symptom_entries_say_how_often_on_a_phone(page, demo_site, artifacts):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(demo_site.url + ARTICLE)
    notes = page.locator(".symptom-list .symptom-frequency")
    not_given = "How often: not known (this article gives no frequency for this symptom)."
    assert notes.count() == 4  # the seed gives no frequency: each says so
    for index in range(4):
        expect(notes.nth(index)).to_be_visible()
        assert notes.nth(index).inner_text() == not_given
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(".symptom-list").screenshot(path=artifacts / "symptom-frequency-phone.png")
    assert_no_axe_violations(page)


# One word longer than a phone is wide, and a long web address: text an author may well write (a combination
# product's name, a product page's address). Each page that shows them must wrap them, not scroll sideways.
LONG_WORD = "Amlodipine/valsartan/hydrochlorothiazide-" * 3
LONG_ADDRESS = "https://www.medicines.org.uk/emc/product/5735/smpc/" + "a-very-long-path-segment/" * 4


def test_long_words_and_web_addresses_wrap_on_every_page_that_shows_them(page, demo_site, workflow, artifacts):
    marker = f"{LONG_WORD} {LONG_ADDRESS} `{LONG_WORD}` <{LONG_ADDRESS}>"
    document = article_document(slug="long-words", marker=marker, topic=LONG_WORD)
    document = changed(
        document,
        **{"revision.title": f"Testamol and {LONG_WORD}", "revision.summary": f"See {LONG_ADDRESS} about {LONG_WORD}."},
    )
    document["revision"]["callouts"][0]["title"] = LONG_WORD
    live = workflow.live(document)
    page.set_viewport_size({"width": 390, "height": 844})
    medicine = live.article.medication.slug
    for path in ("/articles/long-words/", "/", f"/medicines/{medicine}/", "/search/?q=hydrochlorothiazide"):
        page.goto(demo_site.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            page.screenshot(path=artifacts / f"long-words-{path.strip('/').replace('/', '-') or 'home'}.png")
        assert width <= 390, (path, width)
    page.goto(demo_site.url + "/articles/long-words/")
    page.screenshot(path=artifacts / "long-words-phone.png", full_page=True)


def test_a_long_topic_and_address_without_a_break_still_fit_a_phone(page, demo_site, workflow, artifacts):
    """Found from outside: a topic of 180 characters with no space, hyphen or slash (valid, if unlikely) made the
    article's breadcrumb scroll sideways; so did a 115-character address in its history's heading."""
    slug, topic = "w" * 115, "Longtopic" * 20
    live = workflow.live(article_document(slug=slug, topic=topic, medication="longamol"))
    page.set_viewport_size({"width": 390, "height": 844})
    medicine = f"/medicines/{live.article.medication.slug}/"
    for path in (f"/articles/{slug}/", f"/articles/{slug}/history/", "/", medicine):
        page.goto(demo_site.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            page.screenshot(path=artifacts / "long-topic.png", full_page=True)
        assert width <= 390, (path, width)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        ARTICLE,
        ARTICLE + "history/",
        "/medicines/amlodipine/",
        "/search/?q=amlodipine",
        "/triage/",
        "/triage/numbness-tingling-weakness-amlodipine/",
        "/no-such-page/",
    ],
)
def test_pages_fit_a_phone_with_the_text_twice_as_large(page, demo_site, path):
    """A reader who sets the phone's text to 200% reads every line whole, without scrolling sideways."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(demo_site.url + path)
    page.evaluate("document.documentElement.style.fontSize = '200%'")  # as the phone's text size would
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_printed_table_with_a_long_word_fits_the_page(page, transactional_db, live_server, workflow, artifacts):
    """Found from outside, printing an article whose comparison table holds a web address (placeholder text, not
    content): on screen the table scrolls in its own box, but on paper it was 2,489 px wide on a 718 px page, and
    every column after the address was cut off; a table cell sizes to its longest word unless told it may break."""
    document = article_document(columns=4)
    table = document["revision"]["comparison_tables"][0]
    table["rows"][1]["cells"]["col-2"] = "https://example.org/" + "segment/" * 12
    table["rows"][0]["feature"] = "Placeholdertextnotcontent" * 4
    workflow.live(document)
    page.goto(f"{live_server.url}/articles/test-medicine-side-effect/")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 718, "height": 1000})  # A4's printable width at the default margins
    page.pdf(path=str(artifacts / "article-long-table-printed.pdf"), format="A4")
    page.locator("table.comparison").screenshot(path=artifacts / "article-long-table-print.png")
    assert page.locator("table.comparison").bounding_box()["width"] <= 718
    assert page.evaluate("document.documentElement.scrollWidth") <= 718
