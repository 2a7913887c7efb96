"""The partner API, called as a partner would."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services
from articles.interchange.export import revision_content
from articles.models import Medication, Revision, RevisionState
from partners.models import Partner, PartnerAPIKey
from partners.services import partner_key_create, partner_key_revoke
from tests.api.bulk import live_articles
from tests.api.problems import problem, problem_fields
from tests.conftest import PartnerClient, approve
from tests.factories import article_document

pytestmark = pytest.mark.django_db

SLUG = "amlodipine-peripheral-neuropathy"
ENDPOINTS = [
    "/api/v1/medications/",
    "/api/v1/medications/amlodipine/",
    "/api/v1/symptoms/",
    "/api/v1/symptoms/loss-of-balance/",
    "/api/v1/articles/",
    f"/api/v1/articles/{SLUG}/",
    f"/api/v1/articles/{SLUG}/revisions/",
    f"/api/v1/articles/{SLUG}/revisions/1/",
    "/api/v1/changes/",
    "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.88&mainSearchCriteria.v.c=17767",
]


# --- Keys -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ENDPOINTS)
def test_every_endpoint_needs_a_valid_key(client, published_article, partner, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Api-Key")

    key_object, key = partner_key_create(partner=partner)
    assert client.get(url, HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    for wrong in (f"Bearer {key}", "Api-Key ", f"Api-Key {key}x", "Api-Key nonsense.key"):
        assert client.get(url, HTTP_AUTHORIZATION=wrong).status_code == 401, wrong

    partner_key_revoke(key=key_object)
    response = client.get(url, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 401
    assert problem(response)["detail"] == "Unknown or revoked API key."
    assert problem(response)["code"] == "authentication_failed"


def test_expired_keys_and_suspended_partners_are_refused(client, published_article, partner):
    _, expired = partner_key_create(partner=partner, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/api/v1/articles/", HTTP_AUTHORIZATION=f"Api-Key {expired}")
    assert (response.status_code, problem(response)["detail"]) == (401, "This API key has expired.")
    _, key = partner_key_create(partner=partner)
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    assert client.get("/api/v1/articles/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 401


def test_keys_are_stored_hashed_and_use_is_recorded(partner):
    key_object, key = partner_key_create(partner=partner)
    assert key not in key_object.hashed_key
    assert key.split(".")[1] not in key_object.id
    assert key_object.last_used is None


def test_last_used_time_is_recorded_without_writing_to_the_database(client, published_article, partner):
    key_object, key = partner_key_create(partner=partner)
    client.get("/api/v1/articles/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    key_object.refresh_from_db()
    assert key_object.last_used is not None
    assert key_object.last_used_at is None  # a read never writes


def test_rate_limit_answers_429_with_retry_after(api, published_article, settings, partner):
    settings.PARTNER_API_RATE = "3/minute"
    for _ in range(3):
        assert api.get("/api/v1/articles/").status_code == 200
    response = api.get("/api/v1/articles/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    # Limits are per key: another partner's key is unaffected.
    _, other = partner_key_create(partner=Partner.objects.create(name="Other partner"))
    assert PartnerClient(api.client, other).get("/api/v1/articles/").status_code == 200


def test_a_partner_can_have_its_own_rate(api, published_article, settings, partner):
    settings.PARTNER_API_RATE = "1/minute"
    Partner.objects.filter(pk=partner.pk).update(rate_limit="5/minute")
    assert [api.get("/api/v1/articles/").status_code for _ in range(6)] == [200] * 5 + [429]


# --- Only published content ---------------------------------------------------------------


def test_unpublished_content_never_appears(api, workflow, author, reviewer, publisher, published_article):
    marker = "UNPUBLISHED-MARKER-7f3a"
    # A draft of the live article, and articles in every state short of live, all carry the marker.
    draft = workflow.next_draft(published_article)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["title"] = f"Draft {marker}"
    services.revision_update_content(revision=draft, actor=author, expected_lock_version=0, content=content)
    in_review = services.revision_submit(
        revision=workflow.draft(slug="in-review", medication="reviewamol", marker=marker),
        actor=author,
        change_summary=marker,
    )
    approved = approve(
        services.revision_submit(
            revision=workflow.draft(slug="approved", medication="approvamol", marker=marker),
            actor=author,
            change_summary=marker,
        ),
        reviewer,
    )
    future = timezone.now() + datetime.timedelta(days=3)
    scheduled = workflow.take_live(
        workflow.draft(slug="scheduled", medication="schedamol", marker=marker), publish_at=future
    )
    withdrawn = workflow.live(slug="withdrawn", medication="withdramol", marker=marker)
    services.revision_withdraw(revision=withdrawn, actor=publisher, reason=marker)
    assert {in_review.state, approved.state, scheduled.state} == {"in_review", "approved", "scheduled"}

    urls = [*ENDPOINTS, f"/api/v1/articles/{SLUG}/revisions/2/"]
    for slug in ("in-review", "approved", "scheduled", "withdrawn"):
        urls += [
            f"/api/v1/articles/{slug}/",
            f"/api/v1/articles/{slug}/revisions/",
            f"/api/v1/articles/{slug}/revisions/1/",
        ]
    for medication in ("reviewamol", "approvamol", "schedamol", "withdramol"):
        urls += [f"/api/v1/articles/?medication={medication}", f"/api/v1/medications/{medication}/"]
    for url in urls:
        response = api.get(url)
        assert marker not in response.content.decode(), url
    assert api.get("/api/v1/articles/in-review/").status_code == 404
    assert api.get(f"/api/v1/articles/{SLUG}/revisions/2/").status_code == 404
    assert api.get("/api/v1/articles/withdrawn/").status_code == 410
    assert api.get("/api/v1/articles/withdrawn/revisions/1/").status_code == 410
    slugs = [item["slug"] for item in api.json("/api/v1/articles/")["results"]]
    assert slugs == [SLUG]


def test_article_payload_carries_revision_review_hash_and_attribution(api, published_article, settings):
    settings.PARTNER_CONTENT_LICENCE_URL = "https://medsafety.example/licence"
    data = api.json(f"/api/v1/articles/{SLUG}/")
    review = published_article.current_review
    assert data["revision"]["number"] == 1
    assert data["revision"]["content_hash"] == published_article.content_hash
    assert data["review"] == {
        "kind": "approval",
        "last_reviewed": timezone.localdate(review.reviewed_at).isoformat(),
        "next_review_due": review.next_review_due.isoformat(),
        "reviewer": {"name": "Dr Reviewer", "credentials": "MBBS, MRCP, test physician", "is_demonstration": False},
    }
    assert data["canonical_url"] == f"https://medsafety.example/articles/{SLUG}/"
    assert data["licence"]["url"] == "https://medsafety.example/licence"
    assert data["attribution"]
    assert data["is_current"] is True
    content = data["content"]
    assert [s["key"] for s in content["sections"]][:2] == ["understanding-amlodipine", "link-to-nerve-damage"]
    assert 'href="#ref-diabetes-2025-amlodipine-dpn"' in content["sections"][4]["html"]
    assert "[@diabetes-2025-amlodipine-dpn]" in content["sections"][4]["markdown"]
    assert [s["symptom"]["slug"] for s in content["symptoms"]] == [
        "numbness-or-pins-and-needles",
        "muscle-weakness-or-cramping",
        "loss-of-balance",
        "burning-or-aching-pain",
    ]
    table = content["comparison_tables"][0]
    assert [c["heading"] for c in table["columns"]] == [
        "Amlodipine-Related Neuropathy",
        "Other Common Causes of Neuropathy",
    ]
    assert len(table["rows"]) == 5
    assert [a["title"] for a in content["action_steps"]] == [
        "Adjusting the dosage",
        "Switching medication",
        "Investigating other causes",
    ]
    [reference] = content["references"]
    assert (reference["number"], reference["needs_verification"], reference["doi"], reference["pmid"]) == (
        1,
        True,
        "",
        "",
    )


def test_json_ld_on_request(api, published_article):
    response = api.get(f"/api/v1/articles/{SLUG}/", HTTP_ACCEPT="application/ld+json")
    assert response["Content-Type"] == "application/ld+json"
    data = response.json()
    assert data["@type"] == "MedicalWebPage"
    assert data["about"][0]["@type"] == "Drug"
    assert data["reviewedBy"]["name"] == "Dr Reviewer"
    assert api.get(f"/api/v1/articles/{SLUG}/", HTTP_ACCEPT="text/csv").status_code == 406


@pytest.mark.parametrize(
    ("accept", "status", "content_type"),
    [
        ("application/json;q=0", 406, "application/problem+json"),
        ("application/ld+json;q=0.5, application/json", 200, "application/json"),
        ("application/json;q=0.5, application/ld+json", 200, "application/ld+json"),
        ("*/*, application/json;q=0", 200, "application/ld+json"),
    ],
)
def test_the_accept_headers_weights_are_heeded(api, published_article, accept, status, content_type):
    """A partner that refuses JSON (``q=0``) was sent JSON; one that preferred JSON to JSON-LD got the view's first."""
    for conditional in ({}, {"HTTP_IF_NONE_MATCH": '"anything"'}):
        response = api.get(f"/api/v1/articles/{SLUG}/", HTTP_ACCEPT=accept, **conditional)
        assert (response.status_code, response["Content-Type"]) == (status, content_type)


def test_revision_history_and_pinning(api, workflow, published_article):
    second = workflow.take_live(workflow.next_draft(published_article))
    history = api.json(f"/api/v1/articles/{SLUG}/revisions/")
    assert [(r["number"], r["is_current"]) for r in history] == [(2, True), (1, False)]
    pinned = api.json(history[1]["url"])
    assert pinned["revision"]["number"] == 1
    assert pinned["is_current"] is False
    assert api.json(f"/api/v1/articles/{SLUG}/")["revision"]["number"] == second.number


# Found from outside (gunicorn, production settings): once a scheduled replacement's time had passed, and before
# ``publish_scheduled`` recorded it, the history said [(2, True), (1, True)] and the pinned revision 1 said
# "is_current": true, while the public history page marked revision 2 alone. ``is_current`` followed the state
# (``Revision.is_live``: any published revision), not what is live (a due scheduled revision hides the published one).
def test_a_due_scheduled_revision_is_the_only_current_one_before_anything_records_it(
    api, workflow, published_article, clock
):
    workflow.take_live(workflow.next_draft(published_article), publish_at=timezone.now() + datetime.timedelta(hours=1))
    clock.advance(datetime.timedelta(hours=1, seconds=1))
    assert Revision.objects.get(pk=published_article.pk).state == RevisionState.PUBLISHED  # nothing recorded it
    history = api.json(f"/api/v1/articles/{SLUG}/revisions/")
    assert [(r["number"], r["is_current"]) for r in history] == [(2, True), (1, False)]
    assert api.json(history[0]["url"])["is_current"] is True
    assert api.json(history[1]["url"])["is_current"] is False
    assert api.json(f"/api/v1/articles/{SLUG}/")["is_current"] is True


# --- Conditional requests ------------------------------------------------------------------


@pytest.mark.parametrize("url", [f"/api/v1/articles/{SLUG}/", "/api/v1/articles/", "/api/v1/changes/"])
def test_etag_and_last_modified_answer_304_until_a_publish(api, workflow, published_article, clock, url):
    clock.settle()
    first = api.get(url)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert api.get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert api.get(url)["ETag"] == etag  # unchanged content, unchanged ETag

    draft = workflow.next_draft(published_article)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["title"] = "A new title for partners"
    services.revision_update_content(revision=draft, actor=draft.created_by, expected_lock_version=0, content=content)
    workflow.take_live(Revision.objects.get(pk=draft.pk))

    response = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    if url != "/api/v1/changes/":
        assert "A new title for partners" in response.content.decode()


# --- Filters, pagination, errors -------------------------------------------------------------


def test_filters(api, workflow, published_article):
    workflow.live(slug="other", medication="otheramol")
    assert [a["slug"] for a in api.json("/api/v1/articles/", {"medication": "amlodipine"})["results"]] == [SLUG]
    assert [a["slug"] for a in api.json("/api/v1/articles/", {"rxcui": "17767"})["results"]] == [SLUG]
    assert api.json("/api/v1/articles/", {"medication": "unknown"})["results"] == []
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    assert api.json("/api/v1/articles/", {"updated_since": future})["results"] == []
    past = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert len(api.json("/api/v1/articles/", {"updated_since": past})["results"]) == 2


def test_updated_since_takes_any_iso_offset_and_refuses_what_overflows(api, published_article):
    """ISO 8601 allows offsets to ±23:59, PostgreSQL to ±15:59 (found by schemathesis: a 500 there)."""
    assert api.json("/api/v1/articles/", {"updated_since": "2000-12-15T07:57:20+16:26"})["results"]
    assert api.json("/api/v1/articles/", {"updated_since": "4000-12-15T07:57:20+16:26"})["results"] == []
    response = api.get("/api/v1/articles/", {"updated_since": "9999-12-31T23:00:00-05:00"})
    assert (response.status_code, problem_fields(response)) == (400, {"updated_since"})


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"updated_since": "last tuesday"}, "updated_since"),
        ({"rxcui": "amlodipine"}, "rxcui"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"medicaton": "amlodipine"}, "medicaton"),
    ],
)
def test_malformed_query_parameters_answer_400_naming_them(api, published_article, params, name):
    response = api.get("/api/v1/articles/", params)
    assert response.status_code == 400
    assert name in problem_fields(response)


# Found from outside (stop 27's hostile-input probe): a parameter given twice was read as its last value, silently
# (``?medication=a&medication=b`` listed b's articles only, as if the partner had asked for b alone).
@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/articles/?medication=amlodipine&medication=felodipine", "medication"),
        ("/api/v1/articles/?limit=1&limit=200", "limit"),
        ("/api/v1/changes/?after=0&after=5", "after"),
        (
            "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.88&mainSearchCriteria.v.c=17767"
            "&mainSearchCriteria.v.c=1",
            "mainSearchCriteria.v.c",
        ),
    ],
)
def test_a_query_parameter_given_twice_is_a_400_naming_it(api, published_article, url, name):
    response = api.get(url)
    assert response.status_code == 400, response.content[:300]
    assert problem_fields(response) == {name}


def test_a_query_parameter_given_twice_is_refused_on_a_conditional_request_too(api, published_article):
    first = api.get("/api/v1/articles/?limit=5")
    response = api.get("/api/v1/articles/?limit=5&limit=5", HTTP_IF_NONE_MATCH=first["ETag"])
    assert (response.status_code, problem_fields(response)) == (400, {"limit"})


def test_cursor_pagination_walks_every_article_once(api, published_article, reviewer):
    live_articles(7, medication=Medication.objects.get(slug="amlodipine"), reviewer=reviewer)
    seen, url = [], "/api/v1/articles/?limit=3"
    while url:
        page = api.json(url)
        seen += [item["slug"] for item in page["results"]]
        url = page["next"]
    assert len(seen) == 8
    assert seen == sorted(set(seen))


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"mainSearchCriteria.v.c": "17767"}, "mainSearchCriteria.v.cs"),
        ({"mainSearchCriteria.v.cs": "2.16.840.1.113883.6.88"}, "mainSearchCriteria.v.c"),
        ({"mainSearchCriteria.v.cs": "rxnorm", "mainSearchCriteria.v.c": "17767"}, "mainSearchCriteria.v.cs"),
        (
            {"mainSearchCriteria.v.cs": "2.16.840.1.113883.6.1", "mainSearchCriteria.v.c": "1234-5"},
            "mainSearchCriteria.v.cs",
        ),
        (
            {"mainSearchCriteria.v.cs": "2.16.840.1.113883.6.88", "mainSearchCriteria.v.c": "17767x"},
            "mainSearchCriteria.v.c",
        ),
    ],
)
def test_lookup_refuses_malformed_requests(api, published_article, params, name):
    response = api.get("/api/v1/lookup/", params)
    assert response.status_code == 400
    assert name in problem_fields(response)


def test_lookup_by_rxnorm_atc_and_unknown_code(api, published_article):
    rxnorm = api.json(
        "/api/v1/lookup/", {"mainSearchCriteria.v.cs": "2.16.840.1.113883.6.88", "mainSearchCriteria.v.c": "17767"}
    )
    assert rxnorm["code_system"] == {"oid": "2.16.840.1.113883.6.88", "name": "RxNorm"}
    assert [a["slug"] for a in rxnorm["results"]] == [SLUG]
    atc = api.json(
        "/api/v1/lookup/", {"mainSearchCriteria.v.cs": "2.16.840.1.113883.6.73", "mainSearchCriteria.v.c": "C08CA01"}
    )
    assert [a["slug"] for a in atc["results"]] == [SLUG]
    unknown = api.json(
        "/api/v1/lookup/", {"mainSearchCriteria.v.cs": "2.16.840.1.113883.6.88", "mainSearchCriteria.v.c": "99999999"}
    )
    assert unknown["results"] == []


def test_lookup_by_snomed_ct_finds_articles_listing_the_symptom(api, workflow):
    document = article_document(slug="snomed", medication="snomedamol")
    document["symptoms"][0]["snomed_ct_code"] = "123456789"
    workflow.live(document)
    found = api.json(
        "/api/v1/lookup/", {"mainSearchCriteria.v.cs": "2.16.840.1.113883.6.96", "mainSearchCriteria.v.c": "123456789"}
    )
    assert [a["slug"] for a in found["results"]] == ["snomed"]


# --- Query budgets -----------------------------------------------------------------------------

BUDGET_URLS = [
    "/api/v1/articles/",
    "/api/v1/articles/?limit=200",
    "/api/v1/articles/?medication=budgetamol",
    "/api/v1/articles/?rxcui=999001",
    "/api/v1/articles/?updated_since=2000-01-01T00:00:00Z",
    "/api/v1/articles/?medication=budgetamol&updated_since=2000-01-01T00:00:00Z&limit=200",
    "/api/v1/articles/?cursor=cD1idWRnZXQtMDAwMg%3D%3D",  # after budget-0002: a later page
    "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.88&mainSearchCriteria.v.c=999001",
    "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.88&mainSearchCriteria.v.c=999001&limit=200",
    "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.96&mainSearchCriteria.v.c=123456",
    "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.96&mainSearchCriteria.v.c=123456&limit=200",
    "/api/v1/changes/?after=3&limit=500",
    "/api/v1/changes/?limit=500",
    "/api/v1/medications/",
    "/api/v1/symptoms/",
    "/api/v1/articles/budget-0000/",
    "/api/v1/articles/budget-0000/jsonld/",
    "/api/v1/articles/budget-0000/revisions/",
    "/api/v1/articles/budget-0000/revisions/1/",
    "/api/v1/medications/budgetamol/",
    "/api/v1/symptoms/budget-symptom/",
]


def query_counts(api: PartnerClient) -> dict[str, int]:
    api.get("/api/v1/medications/")  # warm what is cached per process (the schema), not part of the budget
    cache.clear()  # the cost of working every answer out: live pointers and bodies are cached after one
    counts = {}
    for url in BUDGET_URLS:
        # The key's row is kept for KEY_CACHE_SECONDS (10 s), then read again by whichever request comes next: read
        # before each request, so that each count is the answer's own however long the loop takes (a run slowed by
        # load counted the key's two queries on a later address at one size only).
        PartnerAPIKey.objects.unrevoked(api.key.partition(".")[0])
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200, url
        counts[url] = len(queries)
    return counts


def test_lists_cost_the_same_queries_for_5_and_200_articles(api, reviewer, settings):
    settings.PARTNER_API_RATE = "100000/minute"
    medication = Medication.objects.create(slug="budgetamol", generic_name="Budgetamol", rxnorm_rxcui="999001")
    live_articles(5, medication=medication, reviewer=reviewer, prefix="budget")
    few = query_counts(api)
    live_articles(195, medication=medication, reviewer=reviewer, prefix="more")
    assert (
        len(
            api.json(
                "/api/v1/lookup/",
                {
                    "mainSearchCriteria.v.cs": "2.16.840.1.113883.6.88",
                    "mainSearchCriteria.v.c": "999001",
                    "limit": "200",
                },
            )["results"]
        )
        == 200
    )
    many = query_counts(api)
    assert many == few
    assert max(few.values()) <= 16, few


def due_schedules(revisions: list[Revision]) -> None:
    """A second revision of each, scheduled for a minute ago and not yet recorded by publish_scheduled."""
    due = timezone.now() - datetime.timedelta(minutes=1)
    Revision.objects.bulk_create(
        Revision(
            article_id=live.article_id,
            number=2,
            state=RevisionState.SCHEDULED,
            title=live.title,
            topic=live.topic,
            summary=live.summary,
            change_summary="Scheduled.",
            content_hash="1" * 64,
            publish_at=due,
        )
        for live in revisions
    )


def test_the_feed_costs_the_same_queries_for_2_and_40_due_unrecorded_schedules(api, reviewer, settings):
    """The feed computes due schedules read-only (``ChangeEvent.objects.pending``): constant queries, no writes."""
    settings.PARTNER_API_RATE = "100000/minute"
    medication = Medication.objects.create(slug="budgetamol", generic_name="Budgetamol", rxnorm_rxcui="999001")
    api.get("/api/v1/medications/")

    def cost() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            page = api.json("/api/v1/changes/?limit=500")
        assert not [q for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
        return len(queries), sum(event["id"] is None for event in page["events"])

    due_schedules(live_articles(2, medication=medication, reviewer=reviewer, prefix="few"))
    few, pending = cost()
    assert pending == 4  # each: the live revision superseded, the scheduled one published
    due_schedules(live_articles(38, medication=medication, reviewer=reviewer, prefix="many"))
    many, pending = cost()
    assert pending == 80
    assert many == few


def test_each_page_through_due_unrecorded_schedules_costs_the_same_queries(api, reviewer, settings):
    """Pending events come ``limit`` to a page (``pending_after``): a page part way through them costs what the first
    does, and reads only."""
    settings.PARTNER_API_RATE = "100000/minute"
    medication = Medication.objects.create(slug="pageamol", generic_name="Pageamol", rxnorm_rxcui="999002")
    due_schedules(live_articles(12, medication=medication, reviewer=reviewer, prefix="paged"))
    recorded = [event["id"] for event in api.json("/api/v1/changes/?limit=500")["events"] if event["id"] is not None]
    url, costs, pending = f"/api/v1/changes/?after={max(recorded)}&limit=5", [], 0
    while True:
        with CaptureQueriesContext(connection) as queries:
            page = api.json(url)
        assert not [q for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
        costs.append(len(queries))
        pending += sum(event["id"] is None for event in page["events"])
        if not page["has_more"]:
            break
        url = page["next"]
    assert pending == 24  # each of the 12: the live revision superseded, the scheduled one published
    assert len(costs) == 5
    assert len(set(costs)) == 1, costs


@pytest.mark.parametrize("cursor", ["!!!!", " ", "\x00", "====", "eD0x", "bz0xJm89Mg==", "cD1hYmM=extra", "cD1hYmM"])
def test_a_cursor_the_api_never_issued_is_a_400(api, published_article, cursor):
    """Found from outside: characters outside base64 were dropped and unknown or repeated keys ignored, so
    `!!!!`, `====` or `x=1` (eD0x) were each read as the first page, while `abc` was a 400 "Invalid cursor"."""
    response = api.get("/api/v1/articles/", {"cursor": cursor})
    assert response.status_code == 400, cursor
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:00:00-05:00"])
def test_an_updated_since_out_of_range_in_utc_says_which_range(api, published_article, moment):
    """Found from outside: a moment before the year 1 in UTC was told to be "before the year 9999"."""
    response = api.get("/api/v1/articles/", {"updated_since": moment})
    assert response.status_code == 400
    assert "between the years 1 and 9999 in UTC" in response.json()["errors"][0]["detail"]


def test_options_is_answered_as_a_get_is_where_there_is_nothing(api, published_article, workflow, publisher):
    """Found from outside: OPTIONS on an article that never existed was a 200 with the endpoint's description, and
    the API's own 404 for an unknown address said ``Allow: OPTIONS``, where OPTIONS was a 404 too."""

    def options(url: str) -> int:
        return api.client.options(url, HTTP_AUTHORIZATION=f"Api-Key {api.key}").status_code

    article = f"/api/v1/articles/{published_article.article.slug}/"
    assert (options("/api/v1/articles/never-published/"), options(article)) == (404, 200)
    nowhere = api.get("/api/v1/nothing/")
    assert nowhere.status_code == 404
    assert "Allow" not in nowhere.headers
    services.revision_withdraw(revision=published_article, actor=publisher, reason="Safety concern.")
    assert options(article) == 410


def test_options_is_answered_as_a_get_is_where_what_it_finds_decides(api, published_article):
    """Found from outside: OPTIONS on a medication or symptom no live content uses, or on a revision number never
    published, was a 200 with the endpoint's description, where GET is a 404."""
    slug = published_article.article.slug
    medication = published_article.article.medication.slug
    symptom = published_article.symptom_entries.first().symptom.slug
    for found, missing in [
        (f"/api/v1/medications/{medication}/", "/api/v1/medications/nothere/"),
        (f"/api/v1/symptoms/{symptom}/", "/api/v1/symptoms/nothere/"),
        (f"/api/v1/articles/{slug}/revisions/{published_article.number}/", f"/api/v1/articles/{slug}/revisions/99/"),
    ]:
        for url, status in ((found, 200), (missing, 404)):
            assert api.get(url).status_code == status, url
            assert api.client.options(url, HTTP_AUTHORIZATION=f"Api-Key {api.key}").status_code == status, url
