"""Helpers for moving from page to page in the browser tests."""

from __future__ import annotations


def follow(locator) -> None:
    """Click a link or a submit button and wait until the next page has loaded.

    ``click()`` can return before the next page has replaced this one, so a read straight after it
    may see the old page; on a busy machine that made tests fail now and then.
    """
    with locator.page.expect_navigation():
        locator.click()


def text_twice_as_large(page) -> None:
    """The reader's text size at 200 % (WCAG 1.4.4), as a browser's text-only zoom sets it: on the root element."""
    page.evaluate("document.documentElement.style.fontSize = '200%'")


def fits_across(page, locator, width: int) -> None:
    """``locator`` ends within ``width`` px, and the page does not scroll sideways (WCAG 1.4.10 reflow)."""
    box = locator.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width, box
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def browser_text_size(page, percent: int) -> None:
    """The browser's own text size (Chromium's Settings > Appearance > Font size), for this tab from now on.

    Unlike ``text_twice_as_large``, it holds from the first paint of every page the tab loads, so what the page
    does on load (autofocus, scrolling to it) happens at that size, and ``rem`` in media queries follows it too.
    """
    session = page.context.new_cdp_session(page)
    session.send("Page.setFontSizes", {"fontSizes": {"standard": 16 * percent // 100, "fixed": 13 * percent // 100}})


# A word, in the given elements, whose letters run onto more than one line (broken mid-word for want of room).
SPLIT_WORDS = """(selector) => {
  const split = [];
  for (const root of document.querySelectorAll(selector)) {
    const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      for (const word of node.data.matchAll(/[^\\s\\-\\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) split.push(word[0]);
      }
    }
  }
  return split;
}"""


def words_split_across_lines(page, selector: str) -> list[str]:
    """The words in the elements matching ``selector`` that break between two lines: 'emerg' / 'ency'."""
    return page.evaluate(SPLIT_WORDS, selector)


def top_in_page(locator) -> float:
    """Where ``locator`` starts, in px from the top of the page (not of the window, which may have scrolled)."""
    return locator.evaluate("e => e.getBoundingClientRect().top + window.scrollY")


def bottom_in_page(locator) -> float:
    """Where ``locator`` ends, in px from the top of the page."""
    return locator.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
