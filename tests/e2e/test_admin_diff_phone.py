"""A reviewer reads what changed on a phone: the diff of a long word or address wraps, the page does not scroll
sideways (WCAG 1.4.10), so no change is off the screen."""

from __future__ import annotations

import pytest

from articles import services
from articles.interchange.export import revision_content
from articles.models import Revision
from tests.e2e.browsing import fits_across
from tests.e2e.test_admin_accessibility import PHONE
from tests.e2e.test_admin_authoring import sign_in

pytestmark = pytest.mark.browser

ADDRESS = (
    "https://www.example.org/journals/pharmacovigilance/2025/amlodipine-peripheral-neuropathy-case-series-full-text"
)


def test_a_changed_reference_address_in_the_diff_fits_a_phone(browser, live_server, transactional_db, workflow, author):
    live = workflow.live()
    draft = workflow.next_draft(live)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["references"][0]["url"] = ADDRESS
    content["sections"][0]["body"] += " Hydroxychloroquinesulfatemonohydrate."
    services.revision_update_content(
        revision=draft, actor=author, expected_lock_version=draft.lock_version, content=content
    )

    page = sign_in(browser, live_server.url, "reviewer")
    page.set_viewport_size(PHONE)
    page.goto(f"/admin/articles/revision/{draft.pk}/diff/")
    assert "amlodipine-peripheral-neuropathy-case-series-full-text" in page.locator("#content").inner_text()
    fits_across(page, page.locator("#content"), PHONE["width"])
