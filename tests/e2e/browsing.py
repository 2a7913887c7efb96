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
