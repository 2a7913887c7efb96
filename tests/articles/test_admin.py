"""The admin keeps submitted and published content frozen."""

import pytest

from articles.models import Revision

pytestmark = pytest.mark.django_db


def test_a_published_revision_is_read_only_in_the_admin(client, admin_user_account, published_article):
    client.force_login(admin_user_account)
    url = f"/admin/articles/revision/{published_article.pk}/change/"
    html = client.get(url).content.decode()
    assert 'name="title"' not in html
    assert 'name="sections-0-body"' not in html
    assert "Do not stop taking the medication on your own" in html
    before = Revision.objects.with_content().get(pk=published_article.pk).sections.first().body
    client.post(
        url,
        {"title": "Changed", "sections-TOTAL_FORMS": "1", "sections-INITIAL_FORMS": "1", "sections-0-body": "Changed"},
    )
    revision = Revision.objects.get(pk=published_article.pk)
    assert revision.title == "Amlodipine and peripheral neuropathy (nerve damage)"
    assert revision.sections.first().body == before


def test_an_article_draft_starts_from_the_live_revision(client, admin_user_account, published_article):
    client.force_login(admin_user_account)
    response = client.post(
        "/admin/articles/article/",
        {"action": "start_draft", "_selected_action": [published_article.article_id]},
    )
    assert response.status_code == 302
    draft = Revision.objects.get(article=published_article.article, number=2)
    assert draft.state == "draft"
    assert draft.based_on_id == published_article.pk
    assert list(draft.sections.values_list("key", flat=True)) == list(
        published_article.sections.values_list("key", flat=True)
    )
    assert client.get(f"/admin/articles/revision/{draft.pk}/change/").status_code == 200
