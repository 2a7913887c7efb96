"""Finding the right check: `/triage/` by symptom, emergency signs first; articles and results link both ways."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services
from articles.memo import forget_all
from articles.models import Article, Revision
from tests.conftest import pathway_document, take_live
from tests.factories import article_document, demo_document
from triage.engine import Level
from triage.interchange import PATHWAY_FORMAT
from triage.models import Question

pytestmark = pytest.mark.django_db

SLUG = "numbness-tingling-weakness-amlodipine"
PATHWAY_URL = f"/triage/{SLUG}/"


def import_pathway(document: dict[str, Any], author: Any) -> Revision:
    return services.article_import(document=document, actor=author, fmt=PATHWAY_FORMAT)


def swollen_document() -> dict[str, Any]:
    from articles.interchange.importer import load_document
    from tests.conftest import PATHWAY_FILE

    return load_document((PATHWAY_FILE.parent / "swollen-ankles-feet-legs-amlodipine.json").read_bytes())


def html_of(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def section(html: str, heading_id: str) -> str:
    """The HTML of the ``<section>`` labelled by ``heading_id``."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no section labelled {heading_id}"
    return match.group(1)


def emergency_questions(revision: Revision) -> list[Question]:
    return list(Question.objects.filter(revision=revision, red_flag_level=Level.EMERGENCY))


# --- /triage/: "What have you noticed?" --------------------------------------------------------


def test_the_list_asks_what_you_have_noticed_with_the_emergency_signs_above_the_symptoms(client, published_pathway):
    html = html_of(client.get("/triage/"))
    assert "<h1>What have you noticed?</h1>" in html
    assert html.index('id="emergency-signs-heading"') < html.index('id="symptoms-heading"')
    signs = section(html, "emergency-signs-heading")
    # Every emergency red flag of the live pathway, as reviewed (question and its list of signs) ...
    questions = emergency_questions(published_pathway)
    assert len(questions) == 6
    for question in questions:
        assert question.text in signs
        for line in question.help_text.splitlines():
            if line.startswith("- "):
                assert line[2:].strip() in signs
    # ... and nothing less urgent: yellow skin needs help today, not a call now.
    assert "turned yellow" not in signs
    assert 'href="tel:999"' in signs


def test_each_symptom_a_pathway_asks_about_leads_to_it(client, published_pathway):
    choices = section(html_of(client.get("/triage/")), "symptoms-heading")
    symptoms = Question.objects.filter(revision=published_pathway, symptom__isnull=False).select_related("symptom")
    names = sorted({question.symptom.name for question in symptoms})
    assert len(names) == 4
    found = re.findall(r'<a class="symptom-choices__link" href="([^"]+)">([^<]+)</a>', choices)
    assert [name for _, name in found] == names  # A to Z
    assert {href for href, _ in found} == {PATHWAY_URL}


def test_a_sign_two_pathways_ask_is_shown_once_and_each_pathway_under_its_symptoms(
    client, published_pathway, author, reviewer, publisher
):
    take_live(import_pathway(swollen_document(), author), author, reviewer, publisher)
    html = html_of(client.get("/triage/"))
    signs = section(html, "emergency-signs-heading")
    assert signs.count("Do you have either of these chest problems?") == 1
    assert "Do you have sudden swelling of your lips, mouth, tongue or throat?" in signs  # the second pathway's own
    choices = section(html, "symptoms-heading")
    assert re.search(r'href="/triage/swollen-ankles-feet-legs-amlodipine/">Swollen ankles or feet</a>', choices)


def test_a_withdrawn_pathway_takes_its_signs_and_symptoms_with_it(client, published_pathway, publisher):
    services.revision_withdraw(revision=published_pathway, actor=publisher, reason="Under review.")
    html = html_of(client.get("/triage/"))
    assert 'id="emergency-signs-heading"' not in html
    assert PATHWAY_URL not in html
    assert "No symptom checks are published yet." in html
    assert 'href="tel:999"' in html  # the numbers are always there


def test_a_draft_is_not_listed(client, published_article, author):
    import_pathway(pathway_document(), author)
    html = html_of(client.get("/triage/"))
    assert PATHWAY_URL not in html
    assert 'id="emergency-signs-heading"' not in html


def count_queries(call: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert call().status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_one_and_several_pathways(
    client, published_pathway, author, reviewer, publisher, django_assert_num_queries
):
    one = count_queries(lambda: client.get("/triage/"))
    take_live(import_pathway(swollen_document(), author), author, reviewer, publisher)
    for n in range(2):
        document = pathway_document()
        document["article"]["slug"] = f"pathway-copy-{n}"
        take_live(import_pathway(document, author), author, reviewer, publisher)
    client.get("/triage/")  # the site pointer, warm as above
    with django_assert_num_queries(one):
        client.get("/triage/")


# --- Articles link to the checks for their symptoms --------------------------------------------


def article_url(revision: Revision) -> str:
    return f"/articles/{revision.article.slug}/"


def check_links(html: str) -> list[str]:
    match = re.search(r'<section class="callout[^"]*linked-content"[^>]*>(.*?)</section>', html, re.S)
    if match is None:
        return []
    assert "Check your symptoms" in match.group(1)
    return re.findall(r'<a href="([^"]+)">', match.group(1))


def test_an_article_links_to_the_pathways_for_its_symptoms(client, published_pathway, published_article):
    assert check_links(html_of(client.get(article_url(published_article)))) == [PATHWAY_URL]


def test_an_article_about_other_symptoms_links_to_no_pathway(client, published_pathway, workflow):
    other = workflow.live(article_document(slug="another-side-effect", medication="othermol"))
    assert check_links(html_of(client.get(article_url(other)))) == []


def test_publishing_a_pathway_shows_its_link_on_the_very_next_request(
    client, published_article, author, reviewer, publisher
):
    url = article_url(published_article)
    for _ in range(2):  # the second is answered from the kept copy (contentsite.early)
        assert check_links(html_of(client.get(url))) == []
    etag = client.get(url)["ETag"]
    pathway = take_live(import_pathway(pathway_document(), author), author, reviewer, publisher)
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200  # not a 304: the page changed
    assert check_links(html_of(response)) == [PATHWAY_URL]
    assert check_links(html_of(client.get(url))) == [PATHWAY_URL]

    etag = client.get(url)["ETag"]
    services.revision_withdraw(revision=pathway, actor=publisher, reason="Under review.")
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert check_links(html_of(response)) == []
    assert check_links(html_of(client.get(url))) == []


@pytest.mark.parametrize("repeat", [False, True], ids=["once", "repeated"])
def test_a_pathways_scheduled_publication_shows_its_link_at_its_time_with_no_job_run(
    client, published_article, author, reviewer, publisher, clock, repeat
):
    """Found from outside: a pathway scheduled to go live changed the pages of the articles linking to it at its time,
    but their identity knew only their own schedule: the page kept the old links under the same ETag (from the kept
    copy; a fresh render showed the new ones under it) until ``publish_scheduled`` ran, and the proxy was told to
    keep it past that time."""
    clock.freeze()
    url = article_url(published_article)
    when = timezone.now() + datetime.timedelta(minutes=10)
    take_live(import_pathway(pathway_document(), author), author, reviewer, publisher, publish_at=when)
    before = client.get(url)
    assert check_links(html_of(before)) == []
    assert int(before["Cache-Control"].split("s-maxage=")[1].split(",")[0]) <= 600
    if repeat:
        assert check_links(html_of(client.get(url))) == []  # kept for the early path
    clock.advance(datetime.timedelta(minutes=10, seconds=1))
    response = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert response.status_code == 200  # not a 304: the page changed
    assert response["ETag"] != before["ETag"]
    assert check_links(html_of(response)) == [PATHWAY_URL]
    assert check_links(html_of(client.get(url))) == [PATHWAY_URL]


def test_a_pathway_scheduled_to_stop_showing_an_articles_symptoms_drops_its_link_at_its_time(
    client, published_pathway, published_article, workflow, clock
):
    """The other side of the above: a scheduled revision of a linked pathway that no longer asks about the article's
    symptoms takes the link off the article's page at its time, though that revision itself shows none of them."""
    clock.freeze()
    url = article_url(published_article)
    draft = workflow.next_draft(published_pathway)
    Question.objects.filter(revision=draft).update(symptom=None)  # the draft's own rows, before review
    when = timezone.now() + datetime.timedelta(minutes=10)
    workflow.take_live(Revision.objects.get(pk=draft.pk), publish_at=when)
    before = client.get(url)
    assert check_links(html_of(before)) == [PATHWAY_URL]
    assert int(before["Cache-Control"].split("s-maxage=")[1].split(",")[0]) <= 600
    assert check_links(html_of(client.get(url))) == [PATHWAY_URL]  # kept for the early path
    clock.advance(datetime.timedelta(minutes=10, seconds=1))
    response = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert response.status_code == 200
    assert check_links(html_of(response)) == []
    assert check_links(html_of(client.get(url))) == []


def test_a_pathway_change_leaves_articles_about_other_symptoms_alone(
    published_article, workflow, author, reviewer, publisher
):
    other = workflow.live(article_document(slug="another-side-effect", medication="othermol"))
    before = Article.objects.filter(pk=other.article_id).values_list("public_version", flat=True).get()
    take_live(import_pathway(pathway_document(), author), author, reviewer, publisher)
    assert Article.objects.filter(pk=other.article_id).values_list("public_version", flat=True).get() == before
    assert (
        Article.objects.filter(pk=published_article.article_id).values_list("public_version", flat=True).get() > before
    )


def test_the_article_page_costs_the_same_queries_for_one_and_several_linked_pathways(
    client, published_pathway, published_article, author, reviewer, publisher, django_assert_num_queries
):
    url = article_url(published_article)
    revision_id = published_article.pk

    def cold() -> int:
        cache.clear()
        forget_all()
        return count_queries(lambda: client.get(url))

    one = cold()
    for n in range(3):
        document = pathway_document()
        document["article"]["slug"] = f"pathway-copy-{n}"
        take_live(import_pathway(document, author), author, reviewer, publisher)
    assert Revision.objects.get(pk=revision_id).pk == revision_id
    assert len(check_links(html_of(client.get(url)))) == 4
    assert cold() == one


# --- Results link back to the articles about the pathway's symptoms ----------------------------


def read_more(html: str) -> list[str]:
    match = re.search(r'<section aria-labelledby="read-heading">(.*?)</section>', html, re.S)
    return re.findall(r'<a href="([^"]+)">', match.group(1)) if match else []


def post(client: Any, revision: Revision, **answers: str) -> Any:
    data = {question.key: "no" for question in revision.triage_questions.all()}
    data.update(answers)
    return client.post(PATHWAY_URL, data)


def test_every_result_links_to_the_articles_about_its_symptoms(client, published_pathway, published_article):
    # The emergency disposition names no article: the article comes from the symptoms the pathway asks about.
    html = html_of(post(client, published_pathway, stroke="yes"))
    assert "Call the emergency number now" in html
    assert read_more(html) == [article_url(published_article)]
    assert read_more(html_of(post(client, published_pathway))) == [article_url(published_article)]  # no duplicate


def test_a_result_links_only_to_live_articles(client, published_pathway, published_article, publisher):
    services.revision_withdraw(revision=published_article, actor=publisher, reason="Being rewritten.")
    assert read_more(html_of(post(client, published_pathway, stroke="yes"))) == []


def test_a_result_costs_the_same_queries_for_one_and_several_articles(
    client, published_pathway, published_article, workflow, django_assert_num_queries
):
    post(client, published_pathway, stroke="yes")  # the day's first count of this outcome inserts its row
    one = count_queries(lambda: post(client, published_pathway, stroke="yes"))
    for n in range(3):
        document = article_document(slug=f"more-about-numbness-{n}", medication="othermol")
        numbness = next(s for s in demo_document()["symptoms"] if s["slug"] == "numbness-or-pins-and-needles")
        document["symptoms"].append(numbness)
        document["revision"]["symptom_entries"][0]["symptom"] = numbness["slug"]
        workflow.live(document)
    html = html_of(post(client, published_pathway, stroke="yes"))
    assert len(read_more(html)) == 4
    with django_assert_num_queries(one):
        post(client, published_pathway, stroke="yes")
