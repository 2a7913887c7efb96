"""An address (slug) of any allowed length, with no hyphen to break at, fits the admin's pages on a phone too."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from articles import services
from tests.e2e.test_admin_accessibility import DESKTOP, PHONE, walk_signed_in
from tests.factories import article_document

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_long_address_without_a_break_fits_the_revision_pages(browser, demo_site, artifacts, viewport):
    """Found from outside: a 115-character slug with no hyphen (valid) made the revision page's heading and
    breadcrumb scroll sideways: 1,965 px wide in a 1,280 px window, 1,641 px at 390."""
    author = get_user_model().objects.get(username="demo-author")
    slug = "w" * 115
    draft = services.article_import(document=article_document(slug=slug, medication="longamol"), actor=author)
    problems = walk_signed_in(
        browser,
        demo_site.url,
        viewport,
        artifacts,
        "author-long-slug",
        "demo-author",
        {
            "draft": f"/admin/articles/revision/{draft.pk}/change/",
            "article": f"/admin/articles/article/{draft.article_id}/change/",
            "revisions": "/admin/articles/revision/",
            "preview": f"/admin/articles/revision/{draft.pk}/preview/",
        },
    )
    assert problems == {}, problems
