"""The topic is reviewed content: it lives in the revision, inside its content hash.

Before, the topic sat on the article and an author could change it with a plain
admin save: the home page, the article page, the API and the JSON-LD changed at
once, with no review, no hash and no audit entry.
"""

from __future__ import annotations

import pytest

from articles import services
from articles.diff import diff_contents
from articles.interchange.export import content_hash, revision_content, revision_document
from articles.interchange.importer import ImportRejected
from articles.models import Article, Revision
from tests.factories import article_document, changed
from tests.pages import json_ld, page_text

pytestmark = pytest.mark.django_db

SLUG = "test-medicine-side-effect"


def full(revision: Revision) -> Revision:
    return Revision.objects.with_content().get(pk=revision.pk)


def with_topic(workflow, live: Revision, topic: str) -> Revision:
    """A new draft of ``live`` whose only change is the topic."""
    draft = workflow.next_draft(live)
    content = revision_content(full(draft))
    content["topic"] = topic
    content["change_summary"] = f"Topic now {topic}."
    return services.revision_update_content(
        revision=draft, actor=draft.created_by, expected_lock_version=0, content=content
    )


def test_the_topic_is_part_of_the_revision_and_of_its_content_hash(workflow):
    draft = workflow.draft(article_document(topic="Muscle pain"))
    assert draft.topic == "Muscle pain"
    assert revision_content(full(draft))["topic"] == "Muscle pain"
    before = content_hash(full(draft))
    Revision.objects.filter(pk=draft.pk).update(topic="Muscle weakness")
    assert content_hash(full(draft)) != before


def test_a_new_topic_goes_live_only_through_review(client, api, workflow):
    live = workflow.live(article_document(topic="Muscle pain"))
    draft = with_topic(workflow, live, "Muscle weakness")

    # Until the new revision is reviewed and published, readers and partners see the reviewed topic.
    html = client.get(f"/articles/{SLUG}/").content.decode()
    assert "Muscle pain" in page_text(html) and "Muscle weakness" not in html
    assert json_ld(html)[0]["about"][1]["name"] == "Muscle pain"
    assert api.json(f"/api/v1/articles/{SLUG}/")["topic"] == "Muscle pain"
    assert f"/articles/{SLUG}/" not in client.get("/search/", {"q": "weakness"}).content.decode()

    # The reviewer sees the change in the diff, and the approval's hash covers it.
    diff = diff_contents(revision_content(full(live)), revision_content(full(draft)))
    assert [(field.name, field.old, field.new) for field in diff.fields if field.name == "topic"] == [
        ("topic", "Muscle pain", "Muscle weakness")
    ]
    published = workflow.take_live(Revision.objects.get(pk=draft.pk))
    assert published.current_review.content_hash == content_hash(full(published))

    html = client.get(f"/articles/{SLUG}/").content.decode()
    assert "Muscle weakness" in page_text(html)
    assert json_ld(html)[0]["about"][1] == {"@type": "MedicalCondition", "name": "Muscle weakness"}
    assert api.json(f"/api/v1/articles/{SLUG}/")["topic"] == "Muscle weakness"
    assert api.json("/api/v1/articles/")["results"][0]["topic"] == "Muscle weakness"
    assert f"/articles/{SLUG}/" in client.get("/search/", {"q": "weakness"}).content.decode()
    # Pinned earlier revisions keep the topic they were reviewed with.
    assert api.json(f"/api/v1/articles/{SLUG}/revisions/1/")["topic"] == "Muscle pain"


def test_an_author_cannot_change_the_topic_of_an_article_in_the_admin(client, workflow, author):
    live = workflow.live(article_document(topic="Muscle pain"))
    client.force_login(author)
    url = f"/admin/articles/article/{live.article_id}/change/"
    html = client.get(url).content.decode()
    assert 'name="topic"' not in html
    response = client.post(url, {"topic": "Something else", "_save": "1"})
    assert response.status_code == 403
    assert Revision.objects.get(pk=live.pk).topic == "Muscle pain"
    assert not hasattr(Article, "topic") or "topic" not in {f.name for f in Article._meta.get_fields()}


def test_the_first_draft_takes_the_topic_from_the_add_article_form(client, author):
    from articles.models import Medication

    medication = Medication.objects.create(slug="testamol", generic_name="Testamol")
    client.force_login(author)
    response = client.post(
        "/admin/articles/article/add/",
        {
            "slug": "testamol-muscle-pain",
            "medication": medication.pk,
            "topic": "Muscle pain",
            "title": "Testamol and muscle pain",
            "summary": "What to know.",
        },
    )
    assert response.status_code == 302
    revision = Revision.objects.get(article__slug="testamol-muscle-pain")
    assert (revision.number, revision.topic) == (1, "Muscle pain")


def test_a_draft_copied_from_another_keeps_its_topic(workflow):
    live = workflow.live(article_document(topic="Muscle pain"))
    assert workflow.next_draft(live).topic == "Muscle pain"


def test_a_draft_without_a_topic_cannot_be_submitted(workflow, author):
    draft = workflow.draft()
    Revision.objects.filter(pk=draft.pk).update(topic="")
    with pytest.raises(Exception, match="no topic"):
        services.revision_submit(revision=draft, actor=author, change_summary="First.")


# --- The interchange format --------------------------------------------------------------


def test_export_writes_the_topic_in_the_revision():
    revision = services.article_import(document=article_document(topic="Muscle pain"), actor=None)
    document = revision_document(full(revision))
    assert document["article"] == {"slug": SLUG}
    assert document["revision"]["topic"] == "Muscle pain"


def legacy(document: dict) -> dict:
    """A file as written before the topic moved: on the article, not in the revision."""
    old = changed(document, **{"article.topic": document["revision"]["topic"]})
    del old["revision"]["topic"]
    return old


def test_an_older_file_with_the_topic_on_the_article_is_still_read():
    revision = services.article_import(document=legacy(article_document(topic="Muscle pain")), actor=None)
    assert revision.topic == "Muscle pain"
    # ... and exported in today's layout.
    assert revision_document(full(revision))["revision"]["topic"] == "Muscle pain"


def test_a_file_must_say_the_topic_once():
    document = article_document(topic="Muscle pain")
    both = changed(document, **{"article.topic": "Something else"})
    with pytest.raises(ImportRejected) as caught:
        services.article_import(document=both, actor=None)
    assert [str(p) for p in caught.value.problems] == [
        "article.topic: differs from revision.topic ('Something else' here, 'Muscle pain' there); "
        "the topic belongs to the revision: give it once, as revision.topic"
    ]
    neither = changed(document)
    del neither["revision"]["topic"]
    with pytest.raises(ImportRejected) as caught:
        services.article_import(document=neither, actor=None)
    assert [str(p) for p in caught.value.problems] == ["revision.topic: this field is required"]


def test_importing_a_new_topic_for_an_existing_article_makes_a_draft_for_review(workflow):
    first = workflow.live(article_document(topic="Muscle pain"))
    second = services.article_import(document=article_document(topic="Muscle weakness"), actor=None)
    assert (second.article_id, second.state, second.topic) == (first.article_id, "draft", "Muscle weakness")
    assert Revision.objects.get(pk=first.pk).topic == "Muscle pain"


def test_replacing_a_drafts_content_needs_the_topic(workflow, author):
    draft = workflow.draft()
    content = revision_content(full(draft))
    del content["topic"]
    with pytest.raises(ImportRejected, match=r"revision\.topic: this field is required"):
        services.revision_update_content(revision=draft, actor=author, expected_lock_version=0, content=content)
