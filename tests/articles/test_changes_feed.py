"""The Atom feed of publications, updates and withdrawals (``/feeds/changes.atom``)."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services
from articles.feeds import FEED_ENTRIES
from articles.memo import forget_all
from articles.models import Medication, Revision
from contentsite import proxy
from tests.api.bulk import live_articles
from tests.conftest import approve
from tests.factories import article_document
from tests.pages import browsers_revalidate

pytestmark = pytest.mark.django_db

URL = "/feeds/changes.atom"
BASE = "https://medsafety.example"
ATOM = "{http://www.w3.org/2005/Atom}"


def parse(response) -> ET.Element:
    """The feed, checked against RFC 4287's required elements; the root ``atom:feed``."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)  # noqa: S314 - our own response, in a test
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{name}").text, name
    assert feed.find(f"{ATOM}author/{ATOM}name").text  # so entries need none of their own
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == f"{BASE}{URL}"
    ids = []
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "summary"):
            assert entry.find(f"{ATOM}{name}").text, name
        datetime.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)  # RFC 3339
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href").startswith(f"{BASE}/articles/")
        assert entry.find(f"{ATOM}summary").get("type") == "html"
        ids.append(entry.find(f"{ATOM}id").text)
    assert len(ids) == len(set(ids))
    return feed


def entries(feed: ET.Element) -> list[dict[str, str]]:
    return [
        {
            "id": entry.find(f"{ATOM}id").text,
            "title": entry.find(f"{ATOM}title").text,
            "link": entry.find(f"{ATOM}link").get("href"),
            "summary": entry.find(f"{ATOM}summary").text,
            "category": entry.find(f"{ATOM}category").get("term"),
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


def document(slug: str, summary: str, **kwargs) -> dict:
    doc = article_document(slug=slug, medication=f"{slug.replace('-', '')}amol", **kwargs)
    doc["revision"]["summary"] = summary
    return doc


def queries(client, url: str, **headers) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    return response.status_code, len(captured)


def test_the_feed_is_atom_and_lists_the_demo_publication(client, published_article, clock):
    clock.settle()
    response = client.get(URL)
    feed = parse(response)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-gb"
    [entry] = entries(feed)
    assert entry["title"] == "Published: Amlodipine and peripheral neuropathy (nerve damage)"
    assert entry["link"] == f"{BASE}/articles/amlodipine-peripheral-neuropathy/"
    assert entry["category"] == "published"
    assert published_article.summary in entry["summary"]
    assert f"What changed: {published_article.change_summary}" in entry["summary"]
    review = published_article.reviews.get()
    assert f"Reviewed by {review.reviewer_name}, {review.reviewer_credentials}, on " in entry["summary"]
    assert timezone.localtime(review.reviewed_at).strftime("%-d %B %Y") in entry["summary"]
    assert browsers_revalidate(response["Cache-Control"]) and response["ETag"] and response["Last-Modified"]
    assert response[proxy.SURROGATE_HEADER] == proxy.INDEX_KEY


def test_every_page_links_to_the_feed_from_its_head(client, published_article):
    link = f'<link rel="alternate" type="application/atom+xml" title="Medication Safety Library: new, updated and withdrawn articles" href="{URL}">'  # noqa: E501
    for url in ("/", f"/articles/{published_article.article.slug}/", "/search/?q=x", "/triage/", "/no-such-page/"):
        html = client.get(url).content.decode()
        head = html.split("</head>")[0]
        assert link in head, url


def test_an_update_and_a_withdrawal_show_on_the_very_next_request(client, workflow, publisher):
    first = workflow.live(document("feed-article", "First words REVISION-ONE."))
    response = client.get(URL)
    assert client.get(URL, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304

    draft = workflow.next_draft(first)
    Revision.objects.filter(pk=draft.pk).update(summary="Second words REVISION-TWO.")
    draft.refresh_from_db()
    draft.change_summary = "Clearer advice."
    second = workflow.take_live(draft)
    updated = client.get(URL, HTTP_IF_NONE_MATCH=response["ETag"])
    [new, old] = entries(parse(updated))
    assert new["title"] == "Updated: Title of feed-article" and new["category"] == "updated"
    assert "Second words REVISION-TWO." in new["summary"] and "What changed: Clearer advice." in new["summary"]
    # The replaced version's entry no longer repeats its words.
    assert old["title"] == "Published: Title of feed-article"
    assert "REVISION-ONE" not in old["summary"] and "A later version has since replaced this one." in old["summary"]
    assert new["id"] != old["id"]

    services.revision_withdraw(revision=second, actor=publisher, reason="Found to be wrong.")
    withdrawn = client.get(URL, HTTP_IF_NONE_MATCH=updated["ETag"])
    feed = entries(parse(withdrawn))
    assert [entry["title"] for entry in feed] == [
        "Withdrawn: Title of feed-article",
        "Updated: Title of feed-article",
        "Published: Title of feed-article",
    ]
    assert feed[0]["category"] == "withdrawn"
    assert "withdrawn" in feed[0]["summary"] and "withdrawn" in feed[1]["summary"]
    body = withdrawn.content.decode()
    assert "REVISION-" not in body and "Found to be wrong" not in body  # nothing of what was withdrawn
    assert client.get(feed[0]["link"].removeprefix(BASE)).status_code == 410


def test_unreviewed_and_unpublished_content_never_appears(client, workflow, author, reviewer):
    live = workflow.live(document("feed-live", "Live words."))
    workflow.draft(document("feed-draft", "DRAFT-WORDS never reviewed."))
    submitted = workflow.draft(document("feed-approved", "APPROVED-WORDS not published."))
    approve(services.revision_submit(revision=submitted, actor=author, change_summary="First."), reviewer)
    next_draft = workflow.next_draft(live)
    Revision.objects.filter(pk=next_draft.pk).update(summary="NEXT-DRAFT-WORDS unreviewed.")
    body = client.get(URL).content.decode()
    assert [entry["title"] for entry in entries(parse(client.get(URL)))] == ["Published: Title of feed-live"]
    assert "DRAFT-WORDS" not in body and "APPROVED-WORDS" not in body and "NEXT-DRAFT-WORDS" not in body


def test_a_due_schedule_is_in_the_feed_before_it_is_recorded_under_the_same_id(
    client, workflow, author, reviewer, publisher
):
    live = workflow.live(document("feed-scheduled", "Live words."))
    draft = approve(
        services.revision_submit(revision=workflow.next_draft(live), actor=author, change_summary="Next."), reviewer
    )
    scheduled = services.revision_publish(
        revision=draft, actor=publisher, publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    before = client.get(URL)
    assert len(entries(parse(before))) == 1  # not yet due
    Revision.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() - datetime.timedelta(minutes=1))
    cache.clear()  # the site's pointer carried the old time; moving it by hand is not a public change
    due = entries(parse(client.get(URL)))
    assert [entry["title"] for entry in due] == [
        "Updated: Title of feed-scheduled",
        "Published: Title of feed-scheduled",
    ]
    call_command("publish_scheduled", verbosity=0)
    recorded = entries(parse(client.get(URL)))
    assert [(entry["id"], entry["title"]) for entry in recorded] == [(entry["id"], entry["title"]) for entry in due]


# Found from outside: while a scheduled replacement was due but not yet recorded, the replaced revision's entry
# still gave its words as if it were live (``Revision.is_live``: any published revision), though readers were
# shown the replacement; once recorded it said "A later version has since replaced this one."
def test_a_revision_a_due_schedule_replaced_is_told_as_replaced_before_anything_records_it(
    client, workflow, author, reviewer, publisher, clock
):
    live = workflow.live(document("feed-replaced", "First words REVISION-ONE."))
    draft = approve(
        services.revision_submit(revision=workflow.next_draft(live), actor=author, change_summary="Next."), reviewer
    )
    services.revision_publish(revision=draft, actor=publisher, publish_at=timezone.now() + datetime.timedelta(hours=1))
    clock.advance(datetime.timedelta(hours=1, seconds=1))
    due = entries(parse(client.get(URL)))
    assert [entry["title"] for entry in due] == ["Updated: Title of feed-replaced", "Published: Title of feed-replaced"]
    assert "REVISION-ONE" not in due[1]["summary"]
    assert "A later version has since replaced this one." in due[1]["summary"]
    call_command("publish_scheduled", verbosity=0)
    assert entries(parse(client.get(URL))) == due


def test_titles_and_summaries_are_escaped(client, workflow):
    doc = document("feed-escaped", 'Words with <b>tags</b> & "quotes".')
    doc["revision"]["title"] = "A <script>title</script> & more"
    workflow.live(doc)
    [entry] = entries(parse(client.get(URL)))
    assert entry["title"] == "Published: A <script>title</script> & more"
    # The summary is HTML (type="html"): the reviewed words appear in it as escaped text.
    assert "<p>Words with &lt;b&gt;tags&lt;/b&gt; &amp; &quot;quotes&quot;.</p>" in entry["summary"]


def test_the_feed_is_bounded_and_costs_the_same_queries_at_100_and_500_articles(
    client, workflow, author, reviewer, publisher
):
    live = workflow.live(document("feed-budget", "Live words."))
    draft = approve(
        services.revision_submit(revision=workflow.next_draft(live), actor=author, change_summary="Next."), reviewer
    )
    scheduled = services.revision_publish(
        revision=draft, actor=publisher, publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    Revision.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() - datetime.timedelta(minutes=1))
    medication = Medication.objects.create(slug="budgetamol", generic_name="Budgetamol")
    live_articles(100, medication=medication, reviewer=reviewer, prefix="few")
    cache.clear()  # measure misses: nothing in the shared cache, nor kept by this process
    forget_all()
    few = queries(client, URL)
    assert len(entries(parse(client.get(URL)))) == FEED_ENTRIES
    live_articles(400, medication=medication, reviewer=reviewer, prefix="many")
    cache.clear()
    forget_all()
    assert queries(client, URL) == few
    feed = entries(parse(client.get(URL)))
    assert len(feed) == FEED_ENTRIES
    assert feed[0]["title"] == "Updated: Title of feed-budget"  # the due publication, newest
    assert queries(client, URL) == (200, 0)  # cached
    etag = client.get(URL)["ETag"]
    assert queries(client, URL, HTTP_IF_NONE_MATCH=etag) == (304, 0)
