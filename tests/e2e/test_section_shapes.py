"""A heading-only section and a lead-in list with text after it, in Chromium at desktop and phone widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_public_pages import assert_no_axe_violations
from tests.factories import article_document

pytestmark = pytest.mark.browser


def test_a_heading_only_section_and_a_lead_in_list_read_well(page, transactional_db, live_server, workflow, artifacts):
    document = article_document(sections=3)
    sections = document["revision"]["sections"]
    sections[1]["body"] = ""
    sections[2]["body"] = "A lead-in sentence:\n\n- the first item\n- the second item\n\nA paragraph after the list."
    for entry in document["revision"]["symptom_entries"]:
        entry["section"] = "section-2"
    workflow.live(document)

    page.goto(f"{live_server.url}/articles/test-medicine-side-effect/")
    heading_only = page.locator("#section-section-2")
    expect(heading_only.get_by_role("heading", level=2, name="Heading 2")).to_be_visible()
    expect(heading_only.locator(".symptom-list > li")).to_have_count(2)
    assert heading_only.locator("p").count() == 0
    lead_in = page.locator("#section-section-3")
    expect(lead_in.get_by_text("A paragraph after the list.")).to_be_visible()
    assert lead_in.locator(":scope > p, :scope > ul").evaluate_all("nodes => nodes.map(n => n.tagName)") == [
        "P",
        "UL",
        "P",
    ]
    for width, height, name in ((1280, 900, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        assert_no_axe_violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.locator("#section-section-2").screenshot(path=artifacts / f"heading-only-section-{name}.png")
        page.locator("#section-section-3").screenshot(path=artifacts / f"lead-in-list-section-{name}.png")
