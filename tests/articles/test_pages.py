"""Public pages, read over HTTP."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.services import article_import
from tests.factories import article_document
from tests.pages import (
    browsers_revalidate,
    json_ld,
    page_text,
    rendered_again_queries,
    sitemap_locations,
    sitemap_pages,
    squash,
)

pytestmark = pytest.mark.django_db

SEED = Path(__file__).resolve().parents[2] / "articles" / "demo" / "source" / "amlodipine-neuropathy-article.txt"
ARTICLE_URL = "/articles/amlodipine-peripheral-neuropathy/"


def seed_lines() -> list[str]:
    return [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_article_page_says_everything_the_seed_says(client, published_article):
    html = client.get(ARTICLE_URL).content.decode()
    text = page_text(html)
    table_lines = [line for line in seed_lines() if "|" in line]
    other_lines = [line for line in seed_lines() if "|" not in line]
    missing = []
    for line in other_lines:
        line = line.removeprefix("- ")
        # "Adjusting the dosage: Lowering ..." is a titled action; the title is bold, then the text.
        for fragment in re.split(r"(?<=:) ", line, maxsplit=1) if line.split(":")[0].istitle() else [line]:
            if squash(fragment) not in text:
                missing.append(fragment)
    assert missing == []
    assert len(table_lines) == 7  # header, separator and five rows


def test_the_comparison_table_is_a_real_table_with_every_cell(client, published_article):
    html = client.get(ARTICLE_URL).content.decode()
    table = re.search(r"<table.*?</table>", html, flags=re.S).group(0)
    assert "<caption" in table
    rows = [line for line in seed_lines() if "|" in line and not line.startswith("---")]
    header, *body = [[cell.strip() for cell in line.strip("|").split("|")] for line in rows]
    assert re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table) == header
    assert len(body) == 5
    for feature, *cells in body:
        row = re.search(rf'<tr[^>]*>\s*<th scope="row"[^>]*>{re.escape(feature)}</th>(.*?)</tr>', table, flags=re.S)
        assert row, feature
        found = re.findall(r'<td[^>]* data-label="(.*?)">(.*?)</td>', row.group(1), flags=re.S)
        assert [squash(cell) for _, cell in found] == cells
        assert [label for label, _ in found] == header[1:]  # each text names its column, for a phone's layout


def test_the_article_page_has_every_part(client, published_article):
    html = client.get(ARTICLE_URL).content.decode()
    text = page_text(html)
    # The four symptoms in one list, in the seed's order, inside their section, each saying how
    # often it happens (the seed gives no frequency: not known).
    symptoms = re.search(r'<ul class="symptom-list">(.*?)</ul>', html, flags=re.S).group(1)
    not_given = " How often: not known (this article gives no frequency for this symptom)."
    items = re.findall(r"<li>(.*?)</li>", symptoms, flags=re.S)
    assert all('<a class="symptom-link" href="/symptoms/' in item for item in items)  # each to its symptom's page
    items = [re.sub(r' <a class="symptom-link".*?</a>', "", item) for item in items]
    assert [squash(page_text(item)) for item in items] == [
        "Numbness or a 'pins and needles' sensation (paresthesia) in the hands or feet." + not_given,
        "Muscle weakness or cramping." + not_given,
        "Loss of balance, which can increase the risk of falls." + not_given,
        "Pain, which can manifest as burning or aching in the affected limbs." + not_given,
    ]
    actions = re.search(r'<ul class="action-list">(.*?)</ul>', html, flags=re.S).group(1)
    assert [page_text(t) for t in re.findall(r"<strong>(.*?):?</strong>", actions)] == [
        "Adjusting the dosage",
        "Switching medication",
        "Investigating other causes",
    ]
    # The safety callout, prominently before the contents.
    callout = html.index('class="callout callout--warning"')
    assert callout < html.index('class="toc"')
    assert "Do not stop taking the medication on your own" in page_text(html[callout : html.index('class="toc"')])
    # The reference, numbered, cited from the text, and marked as unverified; no invented identifier.
    references = html[html.index('id="references"') :]
    assert '<li id="ref-diabetes-2025-amlodipine-dpn" value="1">' in references
    assert html.count('href="#ref-diabetes-2025-amlodipine-dpn"') == 2
    assert "Diabetes. 2025." in page_text(references)
    assert "Citation needs verification." in page_text(references)
    assert "doi.org" not in html and "pubmed" not in html
    # Who reviewed it and when, from the approval, and a disclaimer.
    review = published_article.current_review
    today, next_due = review.reviewed_at.date(), review.next_review_due
    assert (
        f"Reviewed by Dr Reviewer, MBBS, MRCP, test physician on {today:%-d %B %Y} · "
        f"Next review due {next_due:%-d %B %Y}"
    ) in text
    assert "It is not a diagnosis" in text
    # Contents link to every section, in order.
    toc = re.search(r'<nav class="toc".*?</nav>', html, flags=re.S).group(0)
    assert len(re.findall(r'<a href="#section-', toc)) == 8


def test_head_has_canonical_description_and_json_ld(client, published_article):
    html = client.get(ARTICLE_URL).content.decode()
    assert '<link rel="canonical" href="https://medsafety.example/articles/amlodipine-peripheral-neuropathy/">' in html
    assert '<meta name="description" content="While amlodipine can cause nerve damage' in html
    [data] = json_ld(html)
    assert data["@type"] == "MedicalWebPage"
    drug, condition = data["about"]
    assert drug["@type"] == "Drug" and drug["name"] == "Amlodipine"
    assert {"@type": "MedicalCode", "codeValue": "17767", "codingSystem": "RxNorm"} in drug["code"]
    assert condition == {"@type": "MedicalCondition", "name": "Peripheral neuropathy"}
    [citation] = data["citation"]
    assert citation["isPartOf"]["name"] == "Diabetes" and citation["datePublished"] == "2025"
    assert "identifier" not in citation


def test_content_is_sanitised(client, publish_document):
    document = article_document(slug="unsafe")
    document["revision"]["sections"][0]["body"] = (
        '<script>alert("body")</script> <img src=x onerror="alert(1)"> [click](javascript:alert(2)) '
        '<a href="javascript:alert(3)" onclick="alert(4)">link</a> <iframe src="https://evil.example"></iframe>'
        "\n\n**bold** stays [@ref-1]"
    )
    document["revision"]["callouts"][0]["body"] = "<svg onload=alert(5)>x</svg>"
    document["revision"]["action_steps"][0]["body"] = '<a href="JaVaScRiPt:alert(6)">x</a>'
    publish_document(document)
    html = client.get("/articles/unsafe/").content.decode()
    body = html[html.index("<main") :]
    for bad in ("<script", "<iframe", "<svg", "<img"):
        assert bad not in body, bad
    tags = re.findall(r"<[a-z][^>]*>", body)
    assert not [tag for tag in tags if re.search(r"\son\w+=", tag)], "event handler attributes"
    assert not [tag for tag in tags if re.search(r"href=\"\s*javascript:", tag, flags=re.I)], "javascript: links"
    assert "<strong>bold</strong> stays" in body


def test_json_ld_cannot_be_broken_out_of(client, publish_document):
    document = article_document(slug="breakout")
    document["revision"]["title"] = "</script><script>alert(1)</script>"
    publish_document(document)
    html = client.get("/articles/breakout/").content.decode()
    assert "<script>alert(1)" not in html
    assert json_ld(html)[0]["name"] == "</script><script>alert(1)</script>"


def test_drafts_are_not_public(client):
    article_import(document=article_document(slug="draft-only", marker="SECRET-DRAFT-MARKER"), actor=None)
    assert client.get("/articles/draft-only/").status_code == 404
    for url in ("/", "/sitemap.xml", *sitemap_pages(client), "/medicines/testamol/"):
        assert "SECRET-DRAFT-MARKER" not in client.get(url).content.decode()
        assert "draft-only" not in client.get(url).content.decode()
    for query in ("SECRET-DRAFT-MARKER", "draft-only", "Title"):
        html = client.get("/search/", {"q": query}).content.decode()
        assert "0 results" in html and "/articles/draft-only/" not in html


def test_home_lists_published_articles_by_medication(client, published_article, publish_document):
    publish_document(slug="other-article", medication="zedomab")
    html = client.get("/").content.decode()
    assert html.index('id="medication-amlodipine"') < html.index('id="medication-zedomab"')
    assert 'href="/articles/amlodipine-peripheral-neuropathy/"' in html
    assert 'href="/articles/other-article/"' in html


def test_search_finds_by_medication_brand_and_topic(client, published_article):
    for query in ("amlodipine", "Norvasc", "neuropathy"):
        assert ARTICLE_URL in client.get("/search/", {"q": query}).content.decode(), query
    assert ARTICLE_URL not in client.get("/search/", {"q": "nothing-matches-this"}).content.decode()


def test_search_refuses_overlong_queries_with_400(client):
    response = client.get("/search/", {"q": "x" * 201})
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()


def test_sitemap_and_robots(client, published_article):
    # /sitemap.xml is an index: the addresses are in the pages it lists.
    sitemap = sitemap_locations(client)
    assert "https://medsafety.example/articles/amlodipine-peripheral-neuropathy/" in sitemap
    assert "https://medsafety.example/" in sitemap
    robots = client.get("/robots.txt")
    assert robots["Content-Type"] == "text/plain; charset=utf-8"
    assert "Sitemap: https://medsafety.example/sitemap.xml" in robots.content.decode()


def test_friendly_404(client):
    response = client.get("/articles/no-such-article/")
    assert response.status_code == 404
    text = page_text(response.content.decode())
    assert "Page not found" in text and "See all articles by medicine" in text


def test_security_headers(client, published_article):
    response = client.get(ARTICLE_URL)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]


def test_no_third_party_assets(client, published_article):
    html = client.get(ARTICLE_URL).content.decode()
    for tag in re.findall(r"<(?:link|script|img|iframe)\b[^>]*>", html):
        urls = re.findall(r'(?:src|href)="([^"]+)"', tag)
        assert all(url.startswith("/") or url.startswith("https://medsafety.example") for url in urls), tag


# --- Query budgets ----------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_article_page_costs_the_same_queries_whatever_its_size(client, publish_document, django_assert_num_queries):
    publish_document(slug="small", medication="smallamol", sections=3, references=1, rows=2, symptoms=1)
    publish_document(
        slug="large", medication="largamol", sections=30, references=50, rows=40, columns=6, symptoms=25, actions=20
    )
    small = count_queries(client, "/articles/small/")
    with django_assert_num_queries(small):
        client.get("/articles/large/")
    # A miss: what is live (1 query, 1 for its symptoms, and 1 more to check no change committed meanwhile, see
    # articles.live; 1 more for the schedules of what it links to by them when such content is scheduled), the content
    # aggregate (10), its reviews (1) and the live content of other kinds about its symptoms, e.g. the triage pathways
    # it links to (1).
    assert small <= 15


@pytest.mark.parametrize("parts_memoised", [True, False], ids=["parts-memoised", "cold"])
def test_rendering_the_article_page_costs_the_same_few_queries_whatever_its_size(
    client, publish_document, published_pathway, parts_memoised
):
    """What is live being known, the page's own render: the revision with its medication and first publication (1),
    its reviews (1), the live content of other kinds it links to by its symptoms (1, the demo pathway here), and,
    without its content parts memoised, its content rows (9). The same for 3 sections as for 30."""
    publish_document(slug="small", medication="smallamol", sections=3, references=1, rows=2, symptoms=1)
    publish_document(
        slug="large", medication="largamol", sections=30, references=50, rows=40, columns=6, symptoms=25, actions=20
    )
    budget = 3 if parts_memoised else 12
    counts = {
        url: len(rendered_again_queries(client, url, parts_memoised=parts_memoised))
        for url in ("/articles/small/", "/articles/large/", ARTICLE_URL)
    }
    assert counts == dict.fromkeys(counts, budget)
    assert published_pathway.article.get_absolute_url() in client.get(ARTICLE_URL).content.decode()


def test_list_pages_cost_the_same_queries_whatever_their_size(client, publish_document, django_assert_num_queries):
    publish_document(slug="one", medication="onamol")
    home, sitemap, search = (count_queries(client, url) for url in ("/", "/sitemap.xml", "/search/?q=title"))
    for n in range(30):
        publish_document(slug=f"more-{n}", medication=f"moramol{n}")
    with django_assert_num_queries(home):
        client.get("/")
    with django_assert_num_queries(sitemap):
        client.get("/sitemap.xml")
    with django_assert_num_queries(search):
        client.get("/search/?q=title")


# --- Review record, history, caching ------------------------------------------------


def test_json_ld_carries_the_review(client, published_article):
    [data] = json_ld(client.get(ARTICLE_URL).content.decode())
    review = published_article.current_review
    assert data["lastReviewed"] == review.reviewed_at.date().isoformat()
    assert data["reviewedBy"] == {"@type": "Person", "name": "Dr Reviewer", "jobTitle": "MBBS, MRCP, test physician"}


def test_every_review_date_is_the_same_day_in_the_sites_time_zone(client, published_article, api_key, settings):
    """A review at 23:30 UTC on 1 June is on 2 June in London (BST): the page, its JSON-LD, the history and the API
    all say 2 June (the JSON-LD said 1 June, the day in UTC)."""
    import datetime

    from articles.models import ClinicalReview

    settings.TIME_ZONE = "Europe/London"
    reviewed_at = datetime.datetime(2026, 6, 1, 23, 30, tzinfo=datetime.UTC)
    ClinicalReview.objects.filter(revision=published_article).update(reviewed_at=reviewed_at)
    html = client.get(ARTICLE_URL).content.decode()
    [data] = json_ld(html)
    history = client.get(f"{ARTICLE_URL}history/").content.decode()
    api = client.get(
        "/api/v1/articles/amlodipine-peripheral-neuropathy/", HTTP_AUTHORIZATION=f"Api-Key {api_key}"
    ).json()
    jsonld = client.get(
        "/api/v1/articles/amlodipine-peripheral-neuropathy/jsonld/", HTTP_AUTHORIZATION=f"Api-Key {api_key}"
    ).json()
    assert '<time datetime="2026-06-02">2 June 2026</time>' in html
    assert '<time datetime="2026-06-02">2 June 2026</time>' in history
    assert api["review"]["last_reviewed"] == "2026-06-02"
    assert data["lastReviewed"] == "2026-06-02"
    assert jsonld["lastReviewed"] == "2026-06-02"


def test_the_demo_review_says_it_is_not_a_real_clinician(client, db):
    from django.core.management import call_command

    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    text = page_text(client.get(ARTICLE_URL).content.decode())
    assert "Reviewed by Demo Reviewer (demonstration account, not a real clinician)" in text
    assert "Demonstration only: this review was recorded by a demonstration account, not by a real clinician." in text


def test_a_demonstration_reviewer_is_never_presented_as_a_clinician(client, workflow, reviewer):
    """A profile marked as a demonstration account (``is_demonstration``) whose name and credentials read like a
    clinician's: every place that names the reviewer says it is a demonstration, not only the article's panel.
    The history's review lines and vocabulary changes said "Reviewed by Dr Reviewer, MBBS, MRCP, ..." and the
    JSON-LD gave a reviewedBy Person and a lastReviewed date, as for a real clinical review."""
    from articles import services
    from articles.models import Medication

    reviewer.reviewer_profile.is_demonstration = True
    reviewer.reviewer_profile.save()
    live = workflow.live(slug="demo-reviewed")
    services.medication_update(
        medication=Medication.objects.get(pk=live.article.medication_id),
        actor=reviewer,
        changes={"drug_class": "Calcium channel blocker (dihydropyridine)"},
        reason="Class named in full.",
    )
    url = live.article.get_absolute_url()
    page = page_text(client.get(url).content.decode())
    assert "Demonstration only" in page
    [data] = json_ld(client.get(url).content.decode())
    assert "reviewedBy" not in data and "lastReviewed" not in data
    history = client.get(f"{url}history/").content.decode()
    start = history.index('<ol class="history"')
    revisions = history[start : history.index("</ol>", start)]
    assert "Dr Reviewer" in revisions and "not by a real clinician" in page_text(revisions)
    vocabulary = history[history.index('id="vocabulary-changes"') :]
    assert "Dr Reviewer" in vocabulary and "not by a real clinician" in page_text(vocabulary)


def test_load_demo_twice_changes_nothing(db):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from articles.models import AuditEntry, ClinicalReview, Revision

    def state():
        return (
            list(get_user_model().objects.values_list("username", "password", "is_superuser")),
            list(Revision.objects.values_list("pk", "state", "lock_version", "content_hash")),
            AuditEntry.objects.count(),
            ClinicalReview.objects.count(),
        )

    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "published through the review workflow" in out.getvalue()
    first = state()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert state() == first


def test_page_history_lists_published_revisions(client, workflow):
    from articles import services
    from articles.interchange.export import revision_content
    from articles.models import Revision

    first = workflow.live(slug="with-history")
    draft = workflow.next_draft(first)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["change_summary"] = "Clarified the second section."
    services.revision_update_content(revision=draft, actor=draft.created_by, expected_lock_version=0, content=content)
    workflow.take_live(Revision.objects.get(pk=draft.pk))
    workflow.next_draft(first)  # an unpublished draft stays out of the history
    html = client.get("/articles/with-history/history/").content.decode()
    items = re.findall(r"<li>(.*?)</li>", html[html.index('<ol class="history"') :], flags=re.S)
    assert len(items) == 2
    assert "Revision 2" in items[0] and "Clarified the second section." in page_text(items[0])
    assert "Revision 1" in items[1] and "First version." in page_text(items[1])


def test_a_publish_or_withdrawal_shows_on_the_very_next_request(client, workflow, publisher):
    from articles import services
    from articles.interchange.export import revision_content
    from articles.models import Revision

    first = workflow.live(slug="cached")
    assert "Title of cached" in client.get("/articles/cached/").content.decode()  # now cached
    draft = workflow.next_draft(first)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["title"] = "A newer title"
    services.revision_update_content(revision=draft, actor=draft.created_by, expected_lock_version=0, content=content)
    second = workflow.take_live(Revision.objects.get(pk=draft.pk))
    assert "A newer title" in client.get("/articles/cached/").content.decode()
    services.revision_withdraw(revision=second, actor=publisher, reason="Under review.")
    assert client.get("/articles/cached/").status_code == 410


def test_conditional_get_answers_304_until_the_page_changes(client, workflow):
    first = workflow.live(slug="etagged")
    response = client.get("/articles/etagged/")
    etag = response["ETag"]
    assert browsers_revalidate(response["Cache-Control"])
    assert client.get("/articles/etagged/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    workflow.take_live(workflow.next_draft(first))
    response = client.get("/articles/etagged/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_article_page_query_budget_cold_and_warm(client, publish_document, django_assert_max_num_queries):
    publish_document(slug="budget", medication="budgetamol", sections=30, references=50, rows=40, symptoms=25)
    with django_assert_max_num_queries(15):
        client.get("/articles/budget/")  # rendered (see the test above)
    with django_assert_max_num_queries(2):
        client.get("/articles/budget/")  # from the cache: find the live revision, that is all


def test_history_costs_the_same_queries_for_few_and_many_revisions(client, workflow, django_assert_num_queries):
    first = workflow.live(slug="few")
    count = count_queries(client, "/articles/few/history/")
    live = workflow.live(slug="many", medication="manyamol")
    for _ in range(8):
        live = workflow.take_live(workflow.next_draft(live))
    with django_assert_num_queries(count):
        client.get("/articles/many/history/")
    assert first


def test_the_page_says_when_an_article_is_due_for_review(client, published_article, clock):
    import datetime

    from django.utils import timezone

    from articles.models import ClinicalReview

    notice = "This article is due for review."
    review = ClinicalReview.objects.get(revision=published_article)
    assert not review.is_overdue
    assert notice not in page_text(client.get(published_article.get_absolute_url()).content.decode())
    clock.advance(datetime.timedelta(days=(review.next_review_due - timezone.localdate()).days))
    assert not review.is_overdue  # due today is not yet overdue
    assert notice not in page_text(client.get(published_article.get_absolute_url()).content.decode())
    clock.advance(datetime.timedelta(days=1))  # the date moves on, and the day is part of the page's identity
    assert review.is_overdue
    assert list(published_article.__class__.objects.overdue_for_review()) == [published_article]
    assert notice in page_text(client.get(published_article.get_absolute_url()).content.decode())


# --- Lists that stay flat: home, a medicine's articles -------------------------------


def _medications(count: int) -> list:
    from articles.models import Medication

    return [
        Medication.objects.create(slug=f"listamol-{n}", generic_name=f"Listamol {n}", brand_names=[])
        for n in range(count)
    ]


def test_home_lists_medicines_a_to_z_topics_and_recent_changes_with_counts(client, workflow, clock):
    import datetime

    from articles.views import HOME_RECENT
    from tests.api.bulk import live_listings

    live_listings(30, medications=_medications(2), topics=("Dizziness", "Rash", "Rash"))
    clock.advance(datetime.timedelta(minutes=1))
    workflow.live(slug="zeta-newest", medication="zedomab", topic="Rash")
    html = client.get("/").content.decode()
    text = page_text(html)
    assert "31 articles about 3 medicines" in squash(text)
    medicines = re.findall(r'<li id="medication-([^"]+)">(.*?)</li>', html, flags=re.S)
    assert [slug for slug, _ in medicines] == ["listamol-0", "listamol-1", "zedomab"]
    assert 'href="/medicines/listamol-0/"' in html and "15 articles" in medicines[0][1]
    assert '<h3 id="letter-z">Z</h3>' in html and '<a href="#letter-z">Z</a>' in html
    topics = html[html.index('id="topics-heading"') : html.index('id="recent-heading"')]
    assert re.search(r">Rash</a>\s*<span class=\"count\">21 articles", topics)
    assert re.search(r">Dizziness</a>\s*<span class=\"count\">10 articles", topics)
    recent = html[html.index('id="recent-heading"') :]
    assert recent.count("<li>") == HOME_RECENT
    assert recent.index('href="/articles/zeta-newest/"') < recent.index('href="/articles/listed-')
    for landmark in (
        '<main id="main"',
        'aria-labelledby="medicines-heading"',
        'aria-label="Medicines by first letter"',
    ):
        assert landmark in html


def test_a_medicines_page_walks_every_article_once_by_cursor(client, workflow):
    from articles.views import MEDICINE_PAGE_SIZE
    from tests.api.bulk import live_listings

    live_listings(2 * MEDICINE_PAGE_SIZE + 7, medications=_medications(1))
    seen, url, pages = [], "/medicines/listamol-0/", []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        pages.append(url)
        seen += re.findall(r'<a href="/articles/([^"]+)/">', html)
        following = re.search(r'<a href="\?after=([^"]+)" rel="next">', html)
        url = f"/medicines/listamol-0/?after={following.group(1)}" if following else ""
    assert len(pages) == 3
    assert seen == sorted(seen) and len(set(seen)) == len(seen) == 2 * MEDICINE_PAGE_SIZE + 7
    last = client.get(pages[-1]).content.decode()
    before = re.search(r'<a href="\?before=([^"]+)" rel="prev">', last).group(1)
    middle = client.get(f"/medicines/listamol-0/?before={before}").content.decode()
    assert re.findall(r'<a href="/articles/([^"]+)/">', middle) == seen[MEDICINE_PAGE_SIZE : 2 * MEDICINE_PAGE_SIZE]
    assert 'rel="prev"' in middle and 'rel="next"' in middle
    assert 'rel="prev"' not in client.get(pages[0]).content.decode()


def test_a_medicines_page_is_404_for_unknown_or_unlisted_medicines_and_bad_cursors(client, workflow):
    _medications(1)  # known, but no live article is about it
    workflow.live(slug="one", medication="onamol")
    assert client.get("/medicines/onamol/").status_code == 200
    for url in ("/medicines/listamol-0/", "/medicines/nothing/", "/medicines/onamol/?after=%3Cscript%3E"):
        assert client.get(url).status_code == 404, url
        assert client.get(url).status_code == 404, url  # and again, from the cache


def test_list_pages_answer_304_first_and_hits_without_a_query(client, workflow, clock):
    from contentsite import proxy

    workflow.live(slug="first", medication="onamol")
    clock.settle()
    for url in ("/", "/medicines/onamol/"):
        response = client.get(url)
        assert response[proxy.SURROGATE_HEADER].split()[0] == proxy.INDEX_KEY
        assert browsers_revalidate(response["Cache-Control"]) and response["Last-Modified"]
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
            assert client.get(url).status_code == 200
        assert len(queries) == 0, url
    etag = client.get("/").get("ETag")
    workflow.live(slug="second", medication="twamol")
    response = client.get("/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and 'href="/articles/second/"' in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/medicines/onamol/", "/medicines/onamol/?after=a", "/symptoms/onamol-symptom-1/", "/sitemap-articles.xml"]
)
def test_a_list_page_that_might_not_be_there_answers_304_with_nothing_kept_after_one_query_and_no_rendering(
    client, workflow, monkeypatch, url
):
    """Whether such a page is there is known before its 304 (a 404 is never a 304): one small query, no rendering."""
    from django.core.cache import cache

    from articles import views
    from articles.memo import forget_all

    workflow.live(slug="first", medication="onamol")
    etag = client.get(url)["ETag"]
    cache.clear()
    forget_all()  # another process, with nothing kept anywhere
    views.site_identity()  # but the site's clock, which every list page reads first
    monkeypatch.setattr(views, "render_to_string", lambda *a, **k: pytest.fail("rendered for a 304"))
    monkeypatch.setattr(views, "_xml", lambda *a, **k: pytest.fail("rendered for a 304"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert len(queries) <= 1, [query["sql"] for query in queries]


def test_home_and_a_medicines_page_cost_the_same_queries_at_100_and_2500_articles(client, published_article):
    from tests.api.bulk import live_listings

    meds = _medications(5)
    live_listings(100, medications=meds, prefix="few")
    urls = ("/", "/medicines/listamol-0/", "/medicines/listamol-0/?after=few-000050")
    few = [count_queries(client, url) for url in urls]
    live_listings(2_400, medications=meds, prefix="many")
    assert [count_queries(client, url) for url in urls] == few
    assert [count_queries(client, url) for url in urls] == [0] * len(urls)  # cached


def test_a_readers_cursor_leaves_nothing_in_the_shared_cache(client, workflow, monkeypatch):
    """Found from outside: every distinct ``?after=`` or ``?before=`` on a medicine's or a symptom's page left its page
    (about 3 KB) in Redis for an hour, so a stranger's made-up cursors filled it without bound. A page after a
    cursor is kept by each process (a bounded memo) and by the proxy, never in the shared cache."""
    from articles import views
    from articles.models import Symptom

    live = workflow.live(slug="first", medication="onamol")
    symptom = Symptom.objects.filter(entries__revision=live).first()
    written: list[str] = []
    real = views.cache_set
    monkeypatch.setattr(
        views, "cache_set", lambda key, *args, **kwargs: (written.append(key), real(key, *args, **kwargs))[1]
    )
    for n in range(5):
        for url in (
            f"/medicines/onamol/?after=zz-{n}",
            f"/medicines/onamol/?before=zz-{n}",
            f"/symptoms/{symptom.slug}/?after=zz-{n}",
        ):
            assert client.get(url).status_code == 200, url
    assert [key for key in written if key.startswith("page:")] == []
    assert client.get("/medicines/onamol/").status_code == 200
    assert [key for key in written if key.startswith("page:")] != []  # a first page is shared, as before
