"""A partner's conditional GET answered 304 before the middleware stack, in one cache round trip
(``contentsite.early``, ``PartnerView.not_modified_early``, ``partners.admission``).

The early answer applies the view's own rules (the key, the rate limit, the query, the
validators), so everything else is the same as the full stack's: a refused key is a
401, a spent limit a 429, a changed article a 200, and every request counts once.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from redis.connection import AbstractConnection

from articles.interchange.export import revision_content
from articles.models import Revision
from articles.services import revision_update_content, revision_withdraw
from contentsite.api.views import _decided, forget_decided
from contentsite.cache import take_prefetched
from partners.models import Partner
from partners.services import partner_key_create, partner_key_revoke
from tests.conftest import PartnerClient, by_drf, headers_of, note_requests
from tests.factories import article_document

pytestmark = pytest.mark.django_db

DETAIL = "/api/v1/articles/amlodipine-peripheral-neuropathy/"
LIST = "/api/v1/articles/"
SAME_HEADERS = ("ETag", "Last-Modified", "Cache-Control", "Vary")


@pytest.fixture(autouse=True)
def _note_dispatch(monkeypatch: pytest.MonkeyPatch, drf_requests_noted: None) -> None:
    """Mark each request a view dispatched (its handler ran), for ``early``; and each DRF made a request of."""
    note_requests(monkeypatch, "dispatch", "view_dispatched")


def early(response: Any) -> bool:
    """Answered by the view's class before any handler (``not_modified_early``), and so without the browser's
    middleware (``SessionMiddleware`` gives every request it sees a ``session``)."""
    request = response.wsgi_request
    return not hasattr(request, "session") and not getattr(request, "view_dispatched", False)


def decided_before(response: Any) -> bool:
    """Answered early without the view's ``initial()`` or any DRF request: a kind of request whose answer only its
    shape decides was decided before in this process (``PartnerView.not_modified_early``)."""
    return early(response) and not by_drf(response)


def revalidate(api: PartnerClient, url: str) -> tuple[Any, Any]:
    first = api.get(url)
    assert first.status_code == 200, first.content[:300]
    return first, api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])


def commands_sent(call: Any) -> tuple[Any, list[Any]]:
    """``call()``'s result and the commands it sent to Redis, one entry per round trip."""
    sent: list[Any] = []
    original = AbstractConnection.send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> None:
        sent.append(command)
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = counting  # type: ignore[method-assign]
    try:
        return call(), sent
    finally:
        AbstractConnection.send_packed_command = original  # type: ignore[method-assign]


@pytest.mark.parametrize("url", [DETAIL, LIST, "/api/v1/medications/", "/api/v1/pathways/"])
def test_a_matching_conditional_get_is_a_304_before_the_stack_with_no_query(api, published_article, url):
    first, _ = revalidate(api, url)
    with CaptureQueriesContext(connection) as queries:
        again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and early(again)
    assert len(queries) == 0
    assert again.content == b""
    assert {name: again.get(name) for name in SAME_HEADERS} == {name: first.get(name) for name in SAME_HEADERS}


def test_head_and_if_modified_since_are_answered_early_too(api, published_article, clock):
    clock.settle()
    first = api.get(DETAIL)
    response = api.client.head(
        DETAIL, HTTP_AUTHORIZATION=f"Api-Key {api.key}", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
    )
    assert response.status_code == 304 and early(response)


def test_a_changed_article_is_a_200_with_its_new_etag(api, workflow, published_article, author):
    first = api.get(DETAIL)
    draft = workflow.next_draft(published_article)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["title"] = "Amlodipine and nerve symptoms: retitled"
    revision_update_content(revision=draft, actor=author, expected_lock_version=0, content=content)
    workflow.take_live(Revision.objects.get(pk=draft.pk))
    response = api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 200 and not early(response)
    assert response["ETag"] != first["ETag"] and response.json()["title"] == content["title"]


def test_a_withdrawn_article_is_gone_not_a_304(api, workflow, published_article, publisher):
    first = api.get(DETAIL)
    revision_withdraw(revision=published_article, actor=publisher, reason="Withdrawn for a test.")
    response = api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 410


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"HTTP_AUTHORIZATION": "Api-Key nothing.here"}, 401),
        ({"HTTP_AUTHORIZATION": "Bearer something"}, 401),
    ],
)
def test_a_bad_key_with_a_matching_etag_is_refused(client, api, published_article, headers, status):
    first = api.get(DETAIL)
    response = client.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"], **headers)
    assert response.status_code == status and not early(response)


def test_an_unknown_query_parameter_is_a_400_even_with_a_matching_etag(api, published_article):
    first = api.get(LIST)
    response = api.get(f"{LIST}?colour=blue", HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 400


def test_a_revoked_key_is_refused_on_the_very_next_conditional_request(api, published_article, partner):
    first, second = revalidate(api, DETAIL)
    assert second.status_code == 304
    key = partner.api_keys.get()
    partner_key_revoke(key=key)
    response = api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 401


def test_every_request_counts_once_whichever_path_answers_it(api, published_article, settings, partner):
    settings.PARTNER_API_RATE = "5/minute"
    first = api.get(DETAIL)  # 1
    statuses = [
        api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code,  # 2: early 304
        api.get(DETAIL, HTTP_IF_NONE_MATCH='"stale"').status_code,  # 3: early path falls through to a 200
        api.get(f"{LIST}?colour=blue", HTTP_IF_NONE_MATCH=first["ETag"]).status_code,  # 4: falls through to a 400
        api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code,  # 5
        api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code,  # 6: over the limit
    ]
    assert statuses == [304, 200, 400, 304, 429]
    assert 0 < int(api.get(DETAIL)["Retry-After"]) <= 60


def test_a_wrong_secret_with_a_partners_prefix_uses_none_of_its_requests(client, api, published_article, settings):
    settings.PARTNER_API_RATE = "3/minute"
    first = api.get(DETAIL)  # 1: this process now names the partner's counter from the prefix
    prefix = api.key.partition(".")[0]
    forged = PartnerClient(client, f"{prefix}.not-the-secret")
    assert [forged.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code for _ in range(5)] == [401] * 5
    assert [api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code for _ in range(3)] == [304, 304, 429]


def test_values_read_ahead_do_not_outlive_their_request(api, published_article):
    revalidate(api, DETAIL)
    api.get(LIST)
    from articles.live import SITE_POINTER, identity_cache_key

    assert take_prefetched(SITE_POINTER) is None
    assert take_prefetched(identity_cache_key("amlodipine-peripheral-neuropathy", kind="article")) is None


@pytest.mark.outage
def test_a_304_costs_one_redis_round_trip(client, partner, published_article, own_redis):
    """Key, rate count and live identity in one atomic command: one command sent to Redis for the whole 304."""
    _, key = partner_key_create(partner=partner, name="round trips")
    api = PartnerClient(client, key)
    first, second = revalidate(api, DETAIL)  # the process learns the key's counter on its first request
    assert second.status_code == 304
    response, sent = commands_sent(lambda: api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]))
    assert response.status_code == 304 and early(response)
    assert len(sent) == 1, sent


@pytest.mark.outage
def test_evaluate_reads_its_key_count_and_pathway_in_one_round_trip(client, partner, published_pathway, own_redis):
    _, key = partner_key_create(partner=partner, name="evaluate")
    url = f"/api/v1/pathways/{published_pathway.article.slug}/evaluate/"
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    body = {"answers": {}}
    assert client.post(url, body, content_type="application/json", **auth).status_code == 200
    response, sent = commands_sent(lambda: client.post(url, body, content_type="application/json", **auth))
    assert response.status_code == 200, response.content[:300]
    assert not response.json()["complete"]  # nothing answered: nothing counted, no outcome written
    assert len(sent) == 1, sent


@pytest.mark.outage
def test_a_completed_evaluation_costs_one_round_trip(client, partner, published_pathway, own_redis):
    """The key, the rate count, the pathway and the anonymous outcome count (worked out ahead,
    ``triage.services.evaluate_ahead``): one round trip, once this process has evaluated the pathway and seen
    the key."""
    _, key = partner_key_create(partner=partner, name="evaluate outcome")
    url = f"/api/v1/pathways/{published_pathway.article.slug}/evaluate/"
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    body = {"answers": {question.key: "no" for question in published_pathway.triage_questions.all()}}
    first = client.post(url, body, content_type="application/json", **auth)
    assert first.status_code == 200 and first.json()["complete"], first.content[:300]
    response, sent = commands_sent(lambda: client.post(url, body, content_type="application/json", **auth))
    assert response.status_code == 200 and response.json()["complete"], response.content[:300]
    assert len(sent) == 1, sent


@pytest.mark.outage
def test_a_body_too_large_to_evaluate_ahead_is_evaluated_and_counted_once_admitted(
    client, partner, published_pathway, own_redis
):
    """Nobody can make the server read a large body before its key is checked: over ``EVALUATE_AHEAD_MAX_BYTES``, the
    evaluation waits for the admission and counts its outcome in a round trip of its own."""
    import io

    from django.core.management import call_command

    from triage.api.views import EVALUATE_AHEAD_MAX_BYTES
    from triage.models import OutcomeCount

    _, key = partner_key_create(partner=partner, name="evaluate outcome")
    url = f"/api/v1/pathways/{published_pathway.article.slug}/evaluate/"
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    answers = {question.key: "no" for question in published_pathway.triage_questions.all()}
    padded = json.dumps({"answers": answers}) + " " * EVALUATE_AHEAD_MAX_BYTES  # still valid JSON
    assert client.post(url, padded, content_type="application/json", **auth).status_code == 200
    response, sent = commands_sent(lambda: client.post(url, padded, content_type="application/json", **auth))
    assert response.status_code == 200 and response.json()["complete"], response.content[:300]
    assert len(sent) == 2, sent
    call_command("flush_outcome_counts", stdout=io.StringIO())
    assert [(c.disposition_key, c.count) for c in OutcomeCount.objects.all()] == [
        (response.json()["disposition"]["key"], 2)
    ]


def test_another_partners_key_gets_its_own_304_and_count(client, api, published_article, settings):
    settings.PARTNER_API_RATE = "2/minute"
    first = api.get(DETAIL)
    _, other_key = partner_key_create(partner=Partner.objects.create(name="Other portal"))
    other = PartnerClient(client, other_key)
    assert [other.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code for _ in range(3)] == [304, 304, 429]
    assert api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


@pytest.mark.parametrize(
    "url",
    [
        DETAIL,
        f"{DETAIL}jsonld/",
        f"{DETAIL}revisions/",
        LIST,
        f"{LIST}?limit=5&medication=amlodipine",
        "/api/v1/medications/",
        "/api/v1/changes/?after=0",
        "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.88&mainSearchCriteria.v.c=17767",
    ],
)
def test_a_kind_of_conditional_get_decided_once_is_answered_without_drf_from_then_on(api, published_article, url):
    """The view's ``initial()`` decides a 304 the first time (negotiation, version, query); from then on in this
    process only the key, the rate count and what is live are asked, and the 304 is the same."""
    first, second = revalidate(api, url)
    assert second.status_code == 304 and early(second) and not decided_before(second)
    with CaptureQueriesContext(connection) as queries:
        third = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert third.status_code == 304 and decided_before(third)
    assert len(queries) == 0 and third.content == b""
    assert headers_of(third) == headers_of(second)


@pytest.mark.parametrize("url", [f"{DETAIL}revisions/1/", "/api/v1/medications/amlodipine/"])
def test_a_revision_number_or_an_entry_is_answered_by_its_view_once_found(api, published_article, url):
    """A revision's number or a vocabulary entry may not exist where the article or the site is live: its 304 is
    answered by the view once its body is found (kept under the ETag: no query), never early."""
    first, second = revalidate(api, url)
    with CaptureQueriesContext(connection) as queries:
        third = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == third.status_code == 304
    assert not early(third) and len(queries) == 0
    assert headers_of(third) == headers_of(second)


def test_a_partner_syncing_many_articles_has_each_304_decided_without_drf(api, workflow, published_article):
    """What a 304 answers is decided once per kind of request, not per article: a partner revalidating the whole
    library asks DRF once."""
    others = [workflow.live(article_document(slug=f"other-medicine-{n}", medication=f"othermol{n}")) for n in (1, 2)]
    revalidate(api, DETAIL)
    for revision in others:
        url = f"/api/v1/articles/{revision.article.slug}/"
        first = api.get(url)
        response = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert response.status_code == 304 and decided_before(response)
        assert response["ETag"] == first["ETag"]


@pytest.mark.parametrize(
    ("headers", "decided_again"),
    [
        ({"HTTP_ACCEPT": "application/ld+json"}, True),
        ({"HTTP_HOST": "localhost"}, True),
        ({"HTTP_ACCEPT": "text/html"}, False),  # 406
    ],
)
def test_a_request_of_another_shape_is_decided_by_the_view_again(api, published_article, headers, decided_again):
    """Anything that can change what the view decides (the media type, the host in the body's URLs) is a kind of
    request of its own: decided by the view, never answered from another kind's decision."""
    revalidate(api, DETAIL)
    revalidate(api, DETAIL)
    first = api.get(DETAIL, **headers)
    response = api.get(DETAIL, HTTP_IF_NONE_MATCH=first.get("ETag", '"none"'), **headers)
    assert not decided_before(response)
    if decided_again:
        assert first.status_code == 200 and response.status_code == 304
        assert response["ETag"] == first["ETag"] != api.get(DETAIL)["ETag"]
    else:
        assert response.status_code == 406 == first.status_code


def test_every_refusal_is_made_after_a_kind_of_request_was_decided(
    client, api, workflow, published_article, publisher, partner, settings
):
    """Once decided, a kind of request still has its key checked, its rate counted and what is live read on every
    request: a refused key, a spent limit, a failed precondition and a withdrawal are each answered as the view
    answers them."""
    first, _ = revalidate(api, DETAIL)
    assert decided_before(api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]))
    forged = PartnerClient(client, f"{api.key.partition('.')[0]}.not-the-secret")
    assert forged.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 401
    assert api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"], HTTP_IF_MATCH='"other"').status_code == 412
    assert api.get(DETAIL, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    revision_withdraw(revision=published_article, actor=publisher, reason="Withdrawn for a test.")
    assert api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 410
    settings.PARTNER_API_RATE = "1/minute"
    list_first = api.get(LIST)
    assert api.get(LIST, HTTP_IF_NONE_MATCH=list_first["ETag"]).status_code == 429
    partner_key_revoke(key=partner.api_keys.get())
    assert api.get(LIST, HTTP_IF_NONE_MATCH=list_first["ETag"]).status_code == 401


def test_a_pathway_whose_validators_are_its_own_is_decided_by_the_view_each_time(api, published_pathway):
    """A pathway's validators follow the site's clock as well as its own revision (``PathwayDetail.validators``):
    not from one identity, so each 304 is its view's own."""
    url = f"/api/v1/pathways/{published_pathway.article.slug}/"
    first, second = revalidate(api, url)
    third = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == third.status_code == 304
    assert early(third) and not decided_before(third)


@pytest.mark.parametrize("decided", [False, True])
def test_a_keys_first_request_here_counts_once_when_its_conditional_get_is_a_200(
    client, api, partner, published_article, settings, decided
):
    """This process does not yet know which counter a new key counts on, so its first request is counted by the rate
    rule itself; when the early 304 falls through to the full stack, that count is the request's one count."""
    settings.PARTNER_API_RATE = "5/minute"
    if decided:
        first, _ = revalidate(api, DETAIL)
        assert decided_before(api.get(DETAIL, HTTP_IF_NONE_MATCH=first["ETag"]))
    _, key = partner_key_create(partner=Partner.objects.create(name="New here"), name="new")
    response = PartnerClient(client, key).get(DETAIL, HTTP_IF_NONE_MATCH='"stale"')
    assert response.status_code == 200
    assert response["RateLimit"].startswith('"default";r=4;'), response["RateLimit"]


_SHAPES = st.fixed_dictionaries(
    {
        "url": st.sampled_from(
            [
                *[DETAIL, f"{DETAIL}jsonld/", f"{DETAIL}revisions/", f"{DETAIL}revisions/1/", LIST, f"{LIST}?limit=2"],
                *["/api/v1/medications/", "/api/v1/medications/amlodipine/", "/api/v1/changes/?limit=3"],
                *[f"{DETAIL}?format=json", f"{DETAIL}?colour=blue", f"{LIST}?cursor=!!!!", f"{LIST}?limit=2&limit=3"],
            ]
        ),
        "accept": st.sampled_from(
            [
                None,
                None,
                "application/json",
                "application/ld+json",
                "*/*",
                "text/html",
                "application/json;q=0",
                "*/*;q=0.1",
            ]
        ),
        "method": st.sampled_from(["get", "head"]),
        "condition": st.sampled_from(["same", "same", "weak", "stale", "if-match", "modified-since", "list"]),
        "host": st.sampled_from(["testserver", "testserver", "localhost", "evil.example"]),
    }
)


def _conditions(kind: str, first: Any) -> dict[str, str]:
    etag, modified = first.get("ETag", '"none"'), first.get("Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT")
    return {
        "same": {"HTTP_IF_NONE_MATCH": etag},
        "weak": {"HTTP_IF_NONE_MATCH": f"W/{etag}"},
        "stale": {"HTTP_IF_NONE_MATCH": '"stale"'},
        "if-match": {"HTTP_IF_NONE_MATCH": etag, "HTTP_IF_MATCH": '"other"'},
        "modified-since": {"HTTP_IF_MODIFIED_SINCE": modified},
        "list": {"HTTP_IF_NONE_MATCH": f'"other", {etag}'},
    }[kind]


@hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=_SHAPES)
def test_a_decided_answer_is_the_one_the_view_gives_whatever_the_request(api, published_article, settings, shape):
    """Whatever the request's shape (path, query, media type, method, host, conditions), a request of a kind decided
    before is answered exactly as the view answered it when it decided: the same status and the same fields."""
    settings.PARTNER_API_RATE = "1000000/minute"
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    headers = {"HTTP_HOST": shape["host"], **({"HTTP_ACCEPT": shape["accept"]} if shape["accept"] else {})}
    url = shape["url"]
    send = getattr(api.client, shape["method"])
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {api.key}"}
    first = api.client.get(url, **auth, **headers)
    conditions = _conditions(shape["condition"], first)
    forget_decided()
    by_the_view = send(url, **auth, **headers, **conditions)
    again = send(url, **auth, **headers, **conditions)
    assert again.status_code == by_the_view.status_code
    assert headers_of(again) == headers_of(by_the_view)
    assert again.content == by_the_view.content
    event(f"{again.status_code}{', decided before' if again.status_code == 304 and decided_before(again) else ''}")


@pytest.mark.parametrize("accept", ["text/html", "application/json;q=0", "garbage"])
def test_a_media_type_the_api_cannot_give_is_counted_and_says_where_the_partner_stands(
    api, published_article, settings, accept
):
    """Every response to a valid key carries the RateLimit fields and counts once, the 406 too."""
    settings.PARTNER_API_RATE = "5/minute"
    api.get(DETAIL)
    refused = api.get(DETAIL, HTTP_ACCEPT=accept)
    assert refused.status_code == 406
    assert refused["RateLimit-Policy"] == '"default";q=5;w=60'
    assert refused["RateLimit"].startswith('"default";r=3;')
    assert api.get(DETAIL)["RateLimit"].startswith('"default";r=2;')


def test_what_a_process_keeps_of_a_kind_of_304_counts_the_kinds_own_characters(api, published_article):
    """A kind is named by what its requests send (``Accept``, the query): the memo's bound counts a long one."""
    forget_decided()
    padding = "x-pad/x-pad, " * 700
    first = api.get(DETAIL, HTTP_ACCEPT=f"application/json, {padding}")
    response = api.get(DETAIL, HTTP_ACCEPT=f"application/json, {padding}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 304
    assert _decided._chars >= len(padding)
