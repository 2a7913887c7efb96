"""Helpers for moving from page to page in the browser tests."""

from __future__ import annotations


def follow(locator) -> None:
    """Click a link or a submit button and wait until the next page has loaded.

    ``click()`` can return before the next page has replaced this one, so a read straight after it
    may see the old page; on a busy machine that made tests fail now and then.
    """
    with locator.page.expect_navigation():
        locator.click()
