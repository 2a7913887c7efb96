"""An evaluation's outcome counted in its admission's round trip (one round trip: ``tests/api/test_partner_early.py``),
and every count exact.

``PathwayEvaluate`` evaluates the answers before the request is admitted (``services.evaluate_ahead``)
and counts it with the key and the rate limit. The evaluation keeps that count when it counts the
same counter; anything else (a refusal, another revision gone live, answers that settle
otherwise) takes it back (``services.outcome_settle``), and a take-back that comes after a flush
took the count is taken from the database by the next flush.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles import services as article_services
from partners.models import PartnerAPIKey
from partners.services import partner_key_revoke
from tests.conftest import pathway_document
from triage import services
from triage.interchange import PATHWAY_FORMAT
from triage.models import OutcomeCount

pytestmark = pytest.mark.django_db

SLUG = "numbness-tingling-weakness-amlodipine"
EVALUATE = f"/api/v1/pathways/{SLUG}/evaluate/"
EMERGENCY = "call-emergency-number"


def answers_with_stroke(revision: Any) -> dict[str, str]:
    return {question.key: "no" for question in revision.triage_questions.all()} | {"stroke": "yes"}


def evaluate(client: Any, key: str, body: Any, url: str = EVALUATE) -> Any:
    return client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")


def flushed_counts() -> dict[tuple[int, str], int]:
    call_command("flush_outcome_counts", stdout=io.StringIO())
    return {(c.revision_id, c.disposition_key): c.count for c in OutcomeCount.objects.all() if c.count}


def wrong_secret(key: str) -> str:
    prefix, _, secret = key.partition(".")
    return f"{prefix}.{'x' * len(secret)}"


@pytest.mark.parametrize(
    "refusal",
    ["wrong secret", "revoked key", "unknown query parameter", "unknown field", "throttled", "withdrawn"],
)
def test_a_refused_evaluation_counts_nothing(client, api_key, published_pathway, publisher, settings, refusal):
    answers = answers_with_stroke(published_pathway)
    assert evaluate(client, api_key, {"answers": answers}).status_code == 200  # the guess is made from here on
    key, url, body = api_key, EVALUATE, {"answers": answers}
    if refusal == "wrong secret":
        key = wrong_secret(api_key)
    elif refusal == "revoked key":
        partner_key_revoke(key=PartnerAPIKey.objects.get(prefix=api_key.partition(".")[0]))
    elif refusal == "unknown query parameter":
        url = f"{EVALUATE}?lang=fr"
    elif refusal == "unknown field":
        body = {"answers": answers, "extra": 1}
    elif refusal == "throttled":
        settings.PARTNER_API_RATE = "1/minute"
        cache.clear()
        assert evaluate(client, api_key, body).status_code == 200
    elif refusal == "withdrawn":
        article_services.revision_withdraw(revision=published_pathway, actor=publisher, reason="Under review.")
    counted_before = flushed_counts()
    response = evaluate(client, key, body, url)
    assert response.status_code in {400, 401, 410, 429}, response.content
    assert flushed_counts() == counted_before


def test_a_new_revision_is_counted_and_the_guess_at_the_old_one_taken_back(
    client, api_key, published_pathway, workflow, author
):
    answers = answers_with_stroke(published_pathway)
    evaluate(client, api_key, {"answers": answers})
    draft = article_services.article_import(document=pathway_document(), actor=author, fmt=PATHWAY_FORMAT)
    newer = workflow.take_live(draft)
    assert evaluate(client, api_key, {"answers": answers}).json()["revision"] == newer.number
    assert flushed_counts() == {(published_pathway.pk, EMERGENCY): 1, (newer.pk, EMERGENCY): 1}


@pytest.mark.parametrize("change", ["new revision", "review"])
def test_once_the_pathway_live_now_was_evaluated_the_next_evaluation_is_worked_out_ahead_again(
    client, api_key, published_pathway, workflow, author, roles, monkeypatch, change
):
    """The guess is the pathway this process compiled last for the address: after a change, the first evaluation
    compiles the pathway live now, and from the next on the guess is that one again (its count kept, one round trip),
    not the first pathway ever compiled here, whose every guess would be taken back (two more round trips)."""
    from tests.conftest import make_user

    answers = answers_with_stroke(published_pathway)
    evaluate(client, api_key, {"answers": answers})
    if change == "new revision":
        draft = article_services.article_import(document=pathway_document(), actor=author, fmt=PATHWAY_FORMAT)
        workflow.take_live(draft)
    else:
        reviewer = make_user("second-reviewer", "Clinical reviewers", profile=True)
        article_services.revision_confirm_review(revision=published_pathway, actor=reviewer)
    evaluate(client, api_key, {"answers": answers})  # compiles what is live now: the guess ahead was the old one
    taken_back: list[str] = []
    take_back = services.outcome_take_back
    monkeypatch.setattr(services, "outcome_take_back", lambda key: (taken_back.append(key), take_back(key)))
    for _ in range(3):
        assert evaluate(client, api_key, {"answers": answers}).status_code == 200
    assert taken_back == []


def test_after_a_review_of_the_same_revision_each_evaluation_is_counted_once(client, api_key, published_pathway, roles):
    """A review moves the live identity but not the revision: the pathway is compiled again (another object), so the
    evaluation worked out ahead is not used; its count is taken back even though the outcome's counter is the same."""
    from tests.conftest import make_user

    answers = answers_with_stroke(published_pathway)
    evaluate(client, api_key, {"answers": answers})
    reviewer = make_user("second-reviewer", "Clinical reviewers", profile=True)
    article_services.revision_confirm_review(revision=published_pathway, actor=reviewer)
    assert evaluate(client, api_key, {"answers": answers}).status_code == 200
    assert flushed_counts() == {(published_pathway.pk, EMERGENCY): 2}


def test_answers_that_settle_otherwise_are_counted_as_they_settle(client, api_key, published_pathway):
    answers = answers_with_stroke(published_pathway)
    evaluate(client, api_key, {"answers": answers})
    evaluate(client, api_key, {"answers": answers | {"stroke": "no"}})
    evaluate(client, api_key, {"answers": {"stroke": "no"}})  # not settled: nothing counted
    assert flushed_counts() == {
        (published_pathway.pk, EMERGENCY): 1,
        (published_pathway.pk, "talk-to-your-doctor-if-worried"): 1,
    }


def test_a_take_back_after_a_flush_took_the_count_is_taken_from_the_database(published_pathway):
    key = services.outcome_count_key(published_pathway.pk, EMERGENCY)
    services.outcome_count(revision_id=published_pathway.pk, disposition_key=EMERGENCY)
    services.outcome_count(revision_id=published_pathway.pk, disposition_key=EMERGENCY)  # counted ahead ...
    assert flushed_counts() == {(published_pathway.pk, EMERGENCY): 2}  # ... and flushed before ...
    services.outcome_take_back(key)  # ... it was taken back
    assert cache.get(key) == -1
    assert flushed_counts() == {(published_pathway.pk, EMERGENCY): 1}
    assert cache.get(key) == 0
    assert flushed_counts() == {(published_pathway.pk, EMERGENCY): 1}


def test_two_flushes_of_one_take_back_take_it_once(published_pathway):
    key = services.outcome_count_key(published_pathway.pk, EMERGENCY)
    services.outcome_count(revision_id=published_pathway.pk, disposition_key=EMERGENCY)
    services.outcome_count(revision_id=published_pathway.pk, disposition_key=EMERGENCY)
    flushed_counts()
    services.outcome_take_back(key)
    assert services._take_count(key, -1) == -1
    assert services._take_count(key, -1) == 0  # read -1 before the first took it
    assert cache.get(key) == 0


def test_a_flush_during_a_refused_request_still_leaves_the_totals_exact(
    client, api_key, published_pathway, monkeypatch
):
    """The race the take-back has with the flush: the guess is counted, a flush takes it, then the key is refused."""
    answers = answers_with_stroke(published_pathway)
    evaluate(client, api_key, {"answers": answers})

    def flush_then_refuse(self: PartnerAPIKey, key: str) -> bool:
        call_command("flush_outcome_counts", stdout=io.StringIO())
        return False

    monkeypatch.setattr(PartnerAPIKey, "is_valid", flush_then_refuse)
    assert evaluate(client, api_key, {"answers": answers}).status_code == 401
    monkeypatch.undo()
    assert flushed_counts() == {(published_pathway.pk, EMERGENCY): 1}


STEPS = st.lists(
    st.sampled_from(["stroke", "no stroke", "partial", "wrong secret", "unknown field", "malformed", "flush"]),
    max_size=8,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_whatever_partners_send_the_counts_are_the_outcomes_they_were_given(client, api_key, published_pathway, steps):
    answers = answers_with_stroke(published_pathway)
    before = flushed_counts()
    given_out: dict[tuple[int, str], int] = {}
    bodies = {
        "stroke": {"answers": answers},
        "no stroke": {"answers": answers | {"stroke": "no"}},
        "partial": {"answers": {"stroke": "no"}},
        "unknown field": {"answers": answers, "also": True},
        "malformed": {"answers": answers | {"stroke": "perhaps"}},
    }
    for step in steps:
        if step == "flush":
            flushed_counts()
            continue
        key = wrong_secret(api_key) if step == "wrong secret" else api_key
        response = evaluate(client, key, bodies.get(step, bodies["stroke"]))
        if response.status_code == 200 and response.json()["complete"]:
            counted = (published_pathway.pk, response.json()["disposition"]["key"])
            given_out[counted] = given_out.get(counted, 0) + 1
    after = flushed_counts()
    assert {k: after.get(k, 0) - before.get(k, 0) for k in after.keys() | before.keys()} == {
        k: given_out.get(k, 0) for k in after.keys() | before.keys()
    }
    assert set(given_out) <= set(after)
