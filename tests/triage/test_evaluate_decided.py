"""An evaluation of a kind of request the view has answered before is answered without DRF's request cycle
(``PathwayEvaluate.answer_as_decided``), and exactly as the view answers it.

What only the request's shape decides (negotiation, version, the query's checks, the body's media
type, the fields of the 200) is the view's own, kept from its first 200 of that kind in this process
(``PartnerView.kind_of_body``). Every request still has its key checked, its rate counted, its body
and answers checked by the view's own rules and its outcome counted once; anything but a 200 is the
view's own answer.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from articles.services import revision_withdraw
from contentsite.api.views import _decided, forget_decided
from partners.services import partner_key_revoke
from tests.conftest import by_drf, headers_of
from triage.models import OutcomeCount

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("drf_requests_noted")]

SLUG = "numbness-tingling-weakness-amlodipine"
EVALUATE = f"/api/v1/pathways/{SLUG}/evaluate/"
UNKNOWN = "/api/v1/pathways/no-such-pathway/evaluate/"


def all_no(revision: Any) -> dict[str, str]:
    return {question.key: "no" for question in revision.triage_questions.all()}


def post(client: Any, key: str | None, body: Any, url: str = EVALUATE, **headers: Any) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    content_type = headers.pop("content_type", "application/json")
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}
    return client.post(url, data, content_type=content_type, **auth, **headers)


def flushed_counts() -> dict[tuple[int, str], int]:
    call_command("flush_outcome_counts", stdout=io.StringIO())
    return {(c.revision_id, c.disposition_key): c.count for c in OutcomeCount.objects.all() if c.count}


def counted_by(send: Any) -> tuple[Any, dict[tuple[int, str], int]]:
    """``send()``'s response and the outcomes it counted."""
    before = flushed_counts()
    response = send()
    after = flushed_counts()
    return response, {
        key: after.get(key, 0) - before.get(key, 0) for key in after if after.get(key, 0) != before.get(key, 0)
    }


@pytest.mark.parametrize("answers", ["settled", "partial"])
def test_a_kind_of_evaluation_answered_once_is_answered_without_drf_from_then_on(
    client, api_key, published_pathway, answers
):
    """The view answers the first evaluation of a kind; the next is the same 200, with no DRF request and no query."""
    body = {"answers": all_no(published_pathway) if answers == "settled" else {"stroke": "no"}}
    forget_decided()
    first = post(client, api_key, body)
    assert first.status_code == 200 and by_drf(first)
    with CaptureQueriesContext(connection) as queries:
        second = post(client, api_key, body)
    assert second.status_code == 200 and not by_drf(second), second.content[:300]
    assert len(queries) == 0
    assert second.content == first.content
    assert headers_of(second) == headers_of(first)


def test_a_decided_evaluation_counts_its_request_and_its_outcome_once(client, api_key, published_pathway, settings):
    """The rate limit counts each request once and the outcome is counted once, as the view counts them."""
    settings.PARTNER_API_RATE = "10/minute"
    body = {"answers": all_no(published_pathway) | {"stroke": "yes"}}
    first, counted_first = counted_by(lambda: post(client, api_key, body))
    second, counted_second = counted_by(lambda: post(client, api_key, body))
    assert not by_drf(second)
    assert counted_first == counted_second == {(published_pathway.pk, "call-emergency-number"): 1}
    assert first["RateLimit"].startswith('"default";r=9;') and second["RateLimit"].startswith('"default";r=8;')


def test_every_refusal_is_made_after_a_kind_of_evaluation_was_decided(
    client, api_key, published_pathway, publisher, partner, settings
):
    """Once decided, a kind still has its key, rate, body, answers and pathway asked on every request: each refusal
    is the view's own, and counts no outcome."""
    body = {"answers": all_no(published_pathway)}
    assert not by_drf((post(client, api_key, body), post(client, api_key, body))[1])
    refusals = [
        (401, lambda: post(client, f"{api_key.partition('.')[0]}.not-the-secret", body)),
        (401, lambda: post(client, None, body)),
        (400, lambda: post(client, api_key, {"answers": {"stroke": "perhaps"}})),
        (400, lambda: post(client, api_key, body | {"also": 1})),
        (400, lambda: post(client, api_key, b"{not json")),
        (400, lambda: post(client, api_key, None)),
        (404, lambda: post(client, api_key, body, url=UNKNOWN)),
    ]
    for status, send in refusals:
        response, counted = counted_by(send)
        assert (response.status_code, counted) == (status, {}), response.content[:300]
        assert response["Content-Type"] == "application/problem+json"
    settings.PARTNER_API_RATE = "1/minute"
    post(client, api_key, body)
    response, counted = counted_by(lambda: post(client, api_key, body))
    assert (response.status_code, counted) == (429, {})
    settings.PARTNER_API_RATE = "1000/minute"
    assert post(client, api_key, body).status_code == 200
    revision_withdraw(revision=published_pathway, actor=publisher, reason="Withdrawn for a test.")
    response, counted = counted_by(lambda: post(client, api_key, body))
    assert (response.status_code, counted) == (410, {})
    partner_key_revoke(key=partner.api_keys.get())
    assert post(client, api_key, body).status_code == 401


_BODIES = {
    "stroke": lambda answers: {"answers": answers | {"stroke": "yes"}},
    "all no": lambda answers: {"answers": answers},
    "partial": lambda answers: {"answers": {"stroke": "no"}},
    "none yet": lambda answers: {"answers": {}},
    "unknown question": lambda answers: {"answers": answers | {"elbow": "yes"}},
    "unknown value": lambda answers: {"answers": answers | {"stroke": "perhaps"}},
    "unknown field": lambda answers: {"answers": answers, "also": True},
    "no answers": lambda answers: {"other": 1},
    "a list": lambda answers: [answers],
    "null": lambda answers: None,
    "not JSON": lambda answers: b"{'answers':",
    "empty": lambda answers: b"",
    "larger than read ahead": lambda answers: {"answers": answers, "padding": "x" * 20_000},
}

_SHAPES = st.fixed_dictionaries(
    {
        # Mostly bodies the view answers 200, so that most examples are answered as decided.
        "body": st.sampled_from([*sorted(_BODIES), *["stroke", "all no", "partial", "none yet"] * 3]),
        "url": st.sampled_from([EVALUATE] * 8 + [UNKNOWN, f"{EVALUATE}?format=json", f"{EVALUATE}?x=1"]),
        "accept": st.sampled_from([None] * 6 + ["application/json", "*/*", "application/json; indent=2", "text/html"]),
        "content_type": st.sampled_from(
            ["application/json"] * 6
            + ["application/json; charset=utf-8", "application/json; charset=latin-1", "text/plain"]
        ),
        "host": st.sampled_from(["testserver"] * 6 + ["localhost", "evil.example"]),
        "key": st.sampled_from(["valid"] * 6 + ["wrong secret", "none"]),
    }
)


@hypothesis_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=_SHAPES)
def test_a_decided_evaluation_is_the_one_the_view_gives_whatever_the_request(
    client, api_key, published_pathway, settings, shape
):
    """Whatever the request (body, address, query, media types, host, key), once a request of its kind has been
    answered 200, it is answered exactly as the view answers it cold: the same status, fields and body, and the
    same outcome counted."""
    settings.PARTNER_API_RATE = "1000000/minute"
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    answers = all_no(published_pathway)
    key = {"valid": api_key, "wrong secret": f"{api_key.partition('.')[0]}.not-the-secret", "none": None}[shape["key"]]
    headers = {"content_type": shape["content_type"], "HTTP_HOST": shape["host"]}
    if shape["accept"]:
        headers["HTTP_ACCEPT"] = shape["accept"]
    body = _BODIES[shape["body"]](answers)

    def send() -> Any:
        return post(client, key, body, url=shape["url"], **headers)

    forget_decided()
    cold, counted_cold = counted_by(send)
    # A partner's earlier evaluation of the same kind (the same address's shape, a body the view answers 200).
    post(client, api_key, {"answers": answers}, url=shape["url"].replace(UNKNOWN, EVALUATE), **headers)
    again, counted_again = counted_by(send)
    assert again.status_code == cold.status_code
    assert headers_of(again) == headers_of(cold)
    assert again.content == cold.content
    assert counted_again == counted_cold
    event(f"{again.status_code}{', decided before' if again.status_code == 200 and not by_drf(again) else ''}")


def test_what_a_process_keeps_of_a_kind_counts_the_kinds_own_characters(client, api_key, published_pathway):
    """A kind is named by what its requests send (``Accept``, ``Content-Type``, the query): a partner sending long
    ones makes long kinds, and the memo's bound counts them, not only what is kept for them."""
    forget_decided()
    accept = "application/json, " + "x-pad/x-pad, " * 700
    content_type = "application/json; pad=" + "x" * 200
    body = {"answers": {"stroke": "no"}}
    assert post(client, api_key, body, HTTP_ACCEPT=accept).status_code == 200
    assert _decided._chars >= len(accept)
    assert post(client, api_key, body, content_type=content_type).status_code == 200
    assert _decided._chars >= len(accept) + len(content_type)
