"""A new revision of a pathway goes live while a reader is part-way through it.

The answers so far travel in the page's form (``triage.forms``); the result is worked out
against the revision live when the form comes back. An answer counts only for the question
the reader was shown: one whose words (question, hint, answers) changed in the new revision
is asked again, never answered for them with what they said to the old wording.
Found from outside: a reader who had answered "no" to the chest-pain question went on after
a new revision reworded it and got a result (and a list of "your answers") that said they had
answered "no" to the new wording, which they never saw.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from articles import services as article_services
from tests.conftest import pathway_document
from tests.pages import page_text
from tests.triage.test_steps import URL, form_of, question_of, submit
from triage.interchange import PATHWAY_FORMAT

pytestmark = pytest.mark.django_db

UPDATED = "This check was updated while you were answering"


@pytest.fixture
def reader(published_pathway) -> Any:
    from django.test import Client

    return Client(enforce_csrf_checks=True)


def reworded(document: dict[str, Any], key: str) -> dict[str, Any]:
    """``document`` with the question ``key`` in other words (how is not clinical content: any change counts)."""
    for question in document["revision"]["questions"]:
        if question["key"] == key:
            question["text"] = question["text"].rstrip("?") + " (reworded)?"
    return document


def publish(workflow: Any, author: Any, document: dict[str, Any]) -> Any:
    draft = article_services.article_import(document=document, actor=author, fmt=PATHWAY_FORMAT)
    return workflow.take_live(draft)


def answer_no_until(reader: Any, key: str) -> Any:
    response = reader.get(URL)
    while question_of(response) != key:
        response = submit(reader, response, answer="no")
    return response


def answer_no_to_the_end(reader: Any, response: Any) -> tuple[Any, list[str]]:
    asked = []
    while form_of(response.content.decode()).choices and "Change your answers" not in page_text(
        response.content.decode()
    ):
        asked.append(question_of(response))
        response = submit(reader, response, answer="no")
    return response, asked


def test_a_question_reworded_after_the_reader_answered_it_is_asked_again(reader, workflow, author):
    response = answer_no_until(reader, "allergic-reaction")  # "no" to chest pain, in the old words
    publish(workflow, author, reworded(pathway_document(), "chest-pain"))
    response = submit(reader, response, answer="no")
    assert UPDATED in page_text(response.content.decode())
    result, asked = answer_no_to_the_end(reader, response)
    assert "chest-pain" in asked
    text = page_text(result.content.decode())
    assert "Talk to your doctor or pharmacist if you are worried" in text
    assert "(reworded)" in text  # the answer listed is to the words the reader was shown


def test_the_question_on_the_page_reworded_before_it_came_back_is_shown_again_unanswered(reader, workflow, author):
    response = answer_no_until(reader, "chest-pain")
    publish(workflow, author, reworded(pathway_document(), "chest-pain"))
    again = submit(reader, response, answer="no")
    html = again.content.decode()
    assert question_of(again) == "chest-pain"
    assert "(reworded)" in page_text(html)
    assert UPDATED in page_text(html)
    assert not re.search(r'name="chest-pain" value="no"[^>]*checked', html)
    # The answers to the questions that did not change are kept.
    assert dict(form_of(html).hidden)["stroke"] == "no"


def test_unchanged_questions_carry_on_across_a_new_revision_without_a_word(reader, workflow, author):
    response = answer_no_until(reader, "allergic-reaction")
    publish(workflow, author, reworded(pathway_document(), "burning-or-aching-pain"))  # not yet asked
    response = submit(reader, response, answer="no")
    assert question_of(response) == "yellow-skin-or-eyes"
    assert UPDATED not in page_text(response.content.decode())
    result, asked = answer_no_to_the_end(reader, response)
    assert "chest-pain" not in asked and "burning-or-aching-pain" in asked
    assert UPDATED not in page_text(result.content.decode())


def test_a_red_flag_answered_yes_in_unchanged_words_gives_the_emergency_result_at_once(reader, workflow, author):
    response = answer_no_until(reader, "chest-pain")
    publish(workflow, author, reworded(pathway_document(), "stroke"))  # answered "no" before, now reworded
    result = submit(reader, response, answer="yes")
    assert '<h1 id="result-title">Call the emergency number now</h1>' in result.content.decode()


def test_yes_to_a_warning_sign_reworded_before_it_came_back_still_gives_the_emergency_result_at_once(
    reader, workflow, author
):
    """A "yes" to a warning sign is never dropped for a rewording: asked again, a reader who has just said they had
    the signs of a stroke would be kept from "call 999" by one more page. At worst, the advice is more urgent than
    the new words would give (never less: the safety benchmark allows over-triage, never under-triage)."""
    first = reader.get(URL)
    publish(workflow, author, reworded(pathway_document(), "stroke"))
    result = submit(reader, first, answer="yes")
    html = result.content.decode()
    assert '<h1 id="result-title">Call the emergency number now</h1>' in html
    assert UPDATED in page_text(html)


def test_change_your_answers_after_a_new_revision_asks_the_reworded_questions_again(reader, workflow, author):
    response = answer_no_until(reader, "chest-pain")
    result = submit(reader, response, answer="yes")
    assert "Call the emergency number now" in page_text(result.content.decode())
    publish(workflow, author, reworded(pathway_document(), "stroke"))
    again = submit(reader, result, button="Change")  # the first "Change": the stroke question
    assert question_of(again) == "stroke"
    assert UPDATED in page_text(again.content.decode())
    assert not re.search(r'name="stroke" value="no"[^>]*checked', again.content.decode())


# --- Partners: the same question through the evaluate API -----------------------------------------------------------

EVALUATE = f"{URL.replace('/triage/', '/api/v1/pathways/')}evaluate/"


def evaluate(client: Any, key: str, body: dict[str, Any]) -> Any:
    return client.post(EVALUATE, body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")


def test_a_partner_can_have_answers_refused_that_were_asked_in_another_revisions_words(
    client, api_key, published_pathway, workflow, author
):
    """A partner app asks the questions of the revision it fetched (``content_hash`` in the pathway and in each
    evaluation); sent with its answers, a hash the live revision no longer has is refused, counting nothing, and
    says which revision is live, instead of answers to the old words being evaluated against the new."""
    import io

    from django.core.management import call_command

    from tests.api.problems import problem, problem_fields
    from triage.models import OutcomeCount

    asked_in = published_pathway.content_hash
    answers = dict.fromkeys(("stroke", "spreading-weakness", "chest-pain"), "no")
    fine = evaluate(client, api_key, {"answers": answers, "content_hash": asked_in})
    assert fine.status_code == 200, fine.content
    assert fine.json()["content_hash"] == asked_in
    newer = publish(workflow, author, reworded(pathway_document(), "chest-pain"))
    call_command("flush_outcome_counts", stdout=io.StringIO())
    counted = list(OutcomeCount.objects.values_list("count", flat=True))
    for _ in range(2):  # the second after a 200 of its kind: answered without DRF's request cycle, the same
        body = {"answers": answers | {"allergic-reaction": "no"}, "content_hash": asked_in}
        refused = evaluate(client, api_key, body)
        assert refused.status_code == 400, refused.content
        assert problem_fields(refused) == {"content_hash"}
        assert problem(refused)["errors"][0]["code"] == "pathway_changed"
        assert f"revision {newer.number}" in problem(refused)["errors"][0]["detail"]
        assert evaluate(client, api_key, {"answers": answers, "content_hash": newer.content_hash}).status_code == 200
    assert evaluate(client, api_key, {"answers": answers}).status_code == 200  # the hash is optional
    call_command("flush_outcome_counts", stdout=io.StringIO())
    assert list(OutcomeCount.objects.values_list("count", flat=True)) == counted  # none of these settled
    for _ in range(3):  # settled, with the live hash: each counted once (worked out ahead from the second on)
        assert evaluate(client, api_key, {"answers": {"stroke": "yes"}, "content_hash": newer.content_hash}).json()[
            "complete"
        ]
    call_command("flush_outcome_counts", stdout=io.StringIO())
    assert OutcomeCount.objects.get(revision=newer).count == 3


@pytest.mark.parametrize("content_hash", [1, None, ["x"], "", "x" * 100_000])
def test_a_content_hash_that_is_not_one_is_a_400(client, api_key, published_pathway, content_hash):
    from tests.api.problems import problem_fields

    response = evaluate(client, api_key, {"answers": {"stroke": "yes"}, "content_hash": content_hash})
    assert response.status_code == 400
    assert problem_fields(response) == {"content_hash"}
    assert len(response.content) < 2_000


@pytest.mark.parametrize("sent", ["", 7, None, ["a"], "f" * 65, "f" * 100_000])
def test_a_content_hash_that_is_none_is_refused_as_such_documented_at_64_characters(
    client, api_key, published_pathway, sent
):
    """A ``content_hash`` is 64 hex characters (SHA-256), as the schema says (``maxLength``); anything else is not one
    (not a revision that changed)."""
    from tests.api.problems import problem, problem_fields
    from tests.api.strict import served_schema

    refused = evaluate(client, api_key, {"answers": {"stroke": "yes"}, "content_hash": sent})
    assert refused.status_code == 400, refused.content
    assert problem_fields(refused) == {"content_hash"}
    assert problem(refused)["errors"][0]["code"] == "invalid"
    field = served_schema()["components"]["schemas"]["EvaluateRequestRequest"]["properties"]["content_hash"]
    assert field["maxLength"] == 64
