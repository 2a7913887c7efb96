"""A draft's rows (sections, symptom entries, callouts...) fit their boxes on a phone: nothing clipped at the edge."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from articles import services
from articles.demo.loading import DEMO_PASSWORD
from tests.factories import article_document

pytestmark = pytest.mark.browser

# Every field, list and help text of a stacked row that reaches past its row's box (what the box clips).
CLIPPED = """() => {
  const out = [];
  for (const box of document.querySelectorAll(".inline-related:not(.tabular) fieldset")) {
    const edge = box.getBoundingClientRect().right;
    for (const e of box.querySelectorAll("select, input, textarea, .help")) {
      const r = e.getBoundingClientRect();
      if (r.width && r.right > edge + 0.5) {
        out.push(`${e.id || e.className}: ${Math.round(r.right)} > ${Math.round(edge)}`);
      }
    }
  }
  return out.slice(0, 10);
}"""


def signed_in_author(context):
    """A page of ``context`` signed in as the demo author."""
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", "demo-author")
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")
    return page


def test_a_drafts_rows_fit_their_boxes_on_a_phone(browser, demo_site):
    """Found from outside: at 390 px a symptom entry's Section and Frequency lists and every row's help text ran about
    11 px past the row's right edge, cut off (Django sizes a row's field box to the window, not to the row)."""
    author = get_user_model().objects.get(username="demo-author")
    draft = services.article_import(document=article_document(slug="phone-rows"), actor=author)
    context = browser.new_context(base_url=demo_site.url, viewport={"width": 390, "height": 844})
    try:
        page = signed_in_author(context)
        page.goto(f"/admin/articles/revision/{draft.pk}/change/")
        assert page.locator(".inline-related:not(.tabular) fieldset").count() > 3
        assert page.evaluate(CLIPPED) == []
    finally:
        context.close()


def test_a_revisions_changes_fit_a_phone(browser, demo_site):
    """Found from outside: at 390 px the page of a revision's changes was 433 px wide: a comparison table's nested
    rows (its columns and rows, each a row of three cells inside the details cell) could not narrow, and the whole
    page scrolled sideways. On a phone the nested rows stack, and keep their table semantics (explicit roles)."""
    author = get_user_model().objects.get(username="demo-author")
    draft = services.article_import(document=article_document(slug="phone-diff"), actor=author)
    context = browser.new_context(base_url=demo_site.url, viewport={"width": 390, "height": 844})
    try:
        page = signed_in_author(context)
        page.goto(f"/admin/articles/revision/{draft.pk}/diff/")
        nested = page.locator("table.diff-children")
        assert nested.count() >= 2  # the comparison table's columns and rows
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        first = nested.first
        assert first.get_attribute("role") == "table"
        assert first.locator("tr").first.get_attribute("role") == "row"
        assert first.locator("td").first.get_attribute("role") == "cell"
        assert first.locator("th").first.get_attribute("role") == "rowheader"
    finally:
        context.close()
