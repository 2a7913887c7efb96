"""Saving a draft in the admin without touching it changes nothing: not the text, not the hash, not the diff.

Browsers send a textarea's line breaks as CRLF; the admin must read them as the
same text it showed, so an untouched multi-paragraph section stays untouched.
"""

from __future__ import annotations

import pytest

from articles import services
from articles.interchange.export import content_hash, revision_content
from articles.models import AuditAction, AuditEntry, Revision
from tests.conftest import take_live
from tests.factories import demo_document

pytestmark = pytest.mark.browser


def full(revision: Revision) -> Revision:
    return Revision.objects.with_content().get(pk=revision.pk)


def test_saving_a_draft_without_edits_keeps_the_hash_and_shows_no_changes(
    page, live_server, transactional_db, author, reviewer, publisher
):
    live = take_live(services.article_import(document=demo_document(), actor=author), author, reviewer, publisher)
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    # The draft's words are the live revision's words, change summary included: the diff starts empty.
    services.revision_update_content(
        revision=draft, actor=author, expected_lock_version=0, content=revision_content(full(live))
    )
    assert any("\n\n" in section.body for section in full(draft).sections.all())
    hash_before = content_hash(full(draft))
    assert hash_before == content_hash(full(live))

    saves = AuditEntry.objects.filter(revision=draft, action=AuditAction.SAVE_DRAFT)
    saved_before, version_before = saves.count(), full(draft).lock_version
    url = live_server.url
    page.goto(url + "/admin/login/")
    page.fill("#id_username", "author")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")

    page.goto(f"{url}/admin/articles/revision/{draft.pk}/change/")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert not page.locator(".errornote").count(), page.locator(".errorlist").all_inner_texts()

    assert content_hash(full(draft)) == hash_before
    # Nothing changed, so nothing was saved: no "saved" entry, no new version (services.revision_save_draft).
    assert (saves.count(), full(draft).lock_version) == (saved_before, version_before)

    page.goto(f"{url}/admin/articles/revision/{draft.pk}/diff/?against={live.pk}")
    assert "No differences." in page.locator(".diff").inner_text()
    assert page.locator(".diff ins, .diff del").count() == 2  # only the legend's two examples
