"""Issue 11: the public check asks one question per page, as a browser without JavaScript submits it.

Each page's form is read and submitted as a browser would (hidden fields, the chosen
answer, the button pressed) by a client that enforces CSRF. The answers travel in the
POST body only: never stored, never in a URL.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tests.pages import page_text
from triage import engine
from triage.content import pathway_for
from triage.models import OutcomeCount

pytestmark = pytest.mark.django_db

SLUG = "numbness-tingling-weakness-amlodipine"
URL = f"/triage/{SLUG}/"


class _Form(HTMLParser):
    """The first POST form of a page: its action, hidden fields, radios/checkboxes and buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.action = ""
        self.hidden: list[tuple[str, str]] = []
        self.choices: list[tuple[str, str, str]] = []  # (type, name, value)
        self.buttons: list[tuple[str, str, str]] = []  # (name, value, text)
        self._in_form = False
        self._button: list[str] | None = None
        self._done = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and a.get("method") == "post":
            self._in_form, self.action = True, a.get("action", "")
        elif self._in_form and tag == "input":
            if a.get("type") == "hidden":
                self.hidden.append((a["name"], a.get("value", "")))
            elif a.get("type") in {"radio", "checkbox"}:
                self.choices.append((a["type"], a["name"], a["value"]))
        elif self._in_form and tag == "button":
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.buttons.append((self._button[0], self._button[1], self._button[2].strip()))
            self._button = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_of(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


def submit(client: Client, response: Any, *, answer: str | None = None, button: str = "Continue") -> Any:
    """Submit the page's form as a browser would: hidden fields, the answer ticked, the button pressed."""
    form = form_of(response.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in form.hidden:
        data.setdefault(name, []).append(value)
    if answer is not None:
        name = next(name for kind, name, value in form.choices if value == answer)
        data.setdefault(name, []).append(answer)
    name, value, _ = next(b for b in form.buttons if b[2] == button or b[2].startswith(button))
    if name:
        data.setdefault(name, []).append(value)
    assert "?" not in form.action
    return client.post(form.action, data)


@pytest.fixture
def reader(published_pathway) -> Client:
    return Client(enforce_csrf_checks=True)


def question_of(response: Any) -> str:
    return form_of(response.content.decode()).choices[0][1]


def every_question_page(client: Client, url: str) -> list[Any]:
    """The question pages a reader who answers "no" to everything sees, in order."""
    pages, response = [], client.get(url)
    while form_of(response.content.decode()).choices:
        pages.append(response)
        response = submit(client, response, answer="no")
    return pages


def test_yes_to_the_first_red_flag_gives_the_emergency_result_on_the_next_page(reader, settings):
    settings.TRIAGE_EMERGENCY_NUMBER = "112"
    first = reader.get(URL)
    assert question_of(first) == "stroke"
    result = submit(reader, first, answer="yes")
    html = result.content.decode()
    assert result.status_code == 200
    assert '<h1 id="result-title">Call the emergency number now</h1>' in html
    assert re.search(r'<a class="emergency-number" href="tel:112">112</a>', html)
    assert "Call 112 now." in page_text(html)
    # Personal: no shared cache keeps it; the browser keeps it only to go back to it (triage.views._personal).
    assert {part.strip() for part in result["Cache-Control"].split(",")} == {"private", "no-cache"}


def test_all_no_asks_every_question_in_order_and_ends_in_the_fallback(reader, published_pathway):
    order = [q.key for q in pathway_for(published_pathway).asking_order]
    response = reader.get(URL)
    for number, key in enumerate(order, start=1):
        assert question_of(response) == key
        text = page_text(response.content.decode())
        assert f"Question {number} of at most {len(order)}" in text
        # The numbers to call are on every question, as tap-to-call links.
        assert 'href="tel:999"' in response.content.decode() and 'href="tel:111"' in response.content.decode()
        response = submit(reader, response, answer="no")
    assert "Talk to your doctor or pharmacist if you are worried" in page_text(response.content.decode())


def test_an_urgent_result_says_whom_to_contact_today(reader, settings):
    settings.TRIAGE_URGENT_ADVICE_NUMBER = "0300 123 4567"
    settings.TRIAGE_URGENT_ADVICE_NAME = "the advice line"
    response = reader.get(URL)
    while question_of(response) != "yellow-skin-or-eyes":
        response = submit(reader, response, answer="no")
    response = submit(reader, response, answer="yes")
    html = response.content.decode()
    assert '<h1 id="result-title">Get medical help today</h1>' in html
    lead = page_text(html).split("What to do now")[0]
    assert "Contact your doctor today, or call the advice line on 0300 123 4567." in lead
    assert 'href="tel:03001234567"' in html


def test_an_unanswered_question_is_explained_on_that_question_only(reader):
    first = reader.get(URL)
    second = submit(reader, first, answer="no")
    response = submit(reader, second)
    html = response.content.decode()
    assert response.status_code == 400
    assert question_of(response) == question_of(second)
    assert "There is a problem" in html
    assert html.count("Answer this question.") == 2  # the summary and the question
    assert "<title>Error: " in html


def test_back_goes_one_question_back_keeping_the_answers(reader):
    first = reader.get(URL)
    second = submit(reader, first, answer="no")
    third = submit(reader, second, answer="no")
    back = submit(reader, third, button="Back")
    assert question_of(back) == question_of(second)
    assert re.search(r'<input type="radio" name="spreading-weakness" value="no"[^>]*checked', back.content.decode())
    assert dict(form_of(back.content.decode()).hidden)["stroke"] == "no"
    assert "Back" not in [b[2] for b in form_of(first.content.decode()).buttons]


def test_change_your_answers_goes_back_to_the_question_with_the_answers_kept(reader):
    result = submit(reader, reader.get(URL), answer="yes")
    assert "Change your answers" in page_text(result.content.decode())
    again = submit(reader, result, button="Change")
    assert question_of(again) == "stroke"
    assert re.search(r'<input type="radio" name="stroke" value="yes"[^>]*checked', again.content.decode())
    # Changed to "no": the check goes on with the next question, it does not keep the old result.
    assert question_of(submit(reader, again, answer="no")) == "spreading-weakness"


def test_only_the_result_is_counted_and_nothing_else_is_written(reader):
    response = reader.get(URL)
    for _ in range(3):
        response = submit(reader, response, answer="no")
    submit(reader, response, answer="yes")
    call_command("flush_outcome_counts", stdout=io.StringIO())
    assert [(c.disposition_key, c.count) for c in OutcomeCount.objects.all()] == [("call-emergency-number", 1)]
    assert "sessionid" not in reader.cookies


def test_the_list_page_offers_both_numbers_as_tap_to_call_links(client, published_pathway, settings):
    settings.TRIAGE_URGENT_ADVICE_NAME = "NHS 111"
    html = client.get("/triage/").content.decode()
    assert '<a href="tel:999">999</a>' in html
    assert "call NHS 111 on" in page_text(html) and '<a href="tel:111">111</a>' in html


def test_the_demo_pathway_stops_at_the_first_emergency_red_flag_and_its_checks_prove_it_safe(published_pathway):
    pathway = pathway_for(published_pathway)
    report = engine.check_safety(pathway)
    assert report.passed and report.combinations_checked == 2**12
    for question in pathway.asking_order:
        if question.red_flag_level == engine.Level.EMERGENCY:
            assert engine.settled(pathway, {question.key: frozenset({"yes"})}).level == engine.Level.EMERGENCY


# --- The API: partial answers -----------------------------------------------------------------


def evaluate(api: Any, answers: dict[str, Any], slug: str = SLUG) -> dict[str, Any]:
    """The evaluate API's 200 body for ``answers`` to the pathway at ``slug``, asked with ``api``'s key."""
    response = api.client.post(
        f"/api/v1/pathways/{slug}/evaluate/",
        {"answers": answers},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {api.key}",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_the_api_accepts_partial_answers_and_says_what_to_ask_next(api, published_pathway, settings):
    settings.TRIAGE_URGENT_ADVICE_NUMBER = "111"
    settings.TRIAGE_URGENT_ADVICE_NAME = "NHS 111"
    body = evaluate(api, {})
    assert (body["complete"], body["next_question"], body["disposition"]) == (False, "stroke", None)
    assert body["urgent_advice"] == {"number": "111", "name": "NHS 111"}
    body = evaluate(api, {"stroke": "no"})
    assert (body["complete"], body["next_question"]) == (False, "spreading-weakness")
    body = evaluate(api, {"stroke": "yes"})
    assert (body["complete"], body["next_question"]) == (True, None)
    assert body["disposition"]["key"] == "call-emergency-number"
    assert body["red_flags"] == [{"key": "stroke", "text": published_pathway.triage_questions.get(key="stroke").text}]
    full = evaluate(api, {q.key: "no" for q in published_pathway.triage_questions.all()})
    assert (full["complete"], full["next_question"], full["disposition"]["key"]) == (
        True,
        None,
        "talk-to-your-doctor-if-worried",
    )


def test_each_step_is_under_a_query_budget(reader, django_assert_max_num_queries):
    """The compiled pathway comes from the caches: a step costs what the result page does, at most."""
    response = reader.get(URL)
    for _ in range(3):
        with django_assert_max_num_queries(4):
            response = submit(reader, response, answer="no")
        assert response.status_code == 200


def result_banner(html: str) -> str:
    """The text of the coloured box at the top of a result."""
    return page_text(re.search(r'<section class="result .*?</section>', html, re.DOTALL).group(0))


def test_the_emergency_result_says_call_now_once_in_its_banner(reader):
    # A frightened reader reads one instruction, not "Call 999 now." then "In an emergency, call 999."
    banner = result_banner(submit(reader, reader.get(URL), answer="yes").content.decode())
    assert "Call 999 now." in banner
    assert banner.count("999") == 1, banner


def test_a_withdrawn_check_still_gives_the_numbers_to_call(reader, published_pathway, publisher, settings):
    """Found from outside: a reader part-way through a check that was withdrawn (or opening it) got the 410 page
    with no number to call, only "call your local emergency number"."""
    from articles import services as article_services

    settings.TRIAGE_EMERGENCY_NUMBER = "112"
    first = reader.get(URL)
    article_services.revision_withdraw(revision=published_pathway, actor=publisher, reason="Under review.")
    for response in (reader.get(URL), submit(reader, first, answer="yes")):
        assert response.status_code == 410
        html = response.content.decode()
        assert "This symptom check has been withdrawn" in html
        assert '<a href="tel:112">112</a>' in html


def test_the_answers_on_a_result_say_what_each_question_listed(reader, published_pathway):
    """Found from outside: the result's "your answers" read "Do you have either of these new problems? — No", and a
    reader could not check what "these" were without opening each Change."""
    response = reader.get(URL)
    while form_of(response.content.decode()).choices:
        response = submit(reader, response, answer="no")
    html = response.content.decode()
    answers = re.search(r'<dl class="answers">(.*?)</dl>', html, flags=re.S).group(1)
    assert "Do you have either of these new problems?" in answers
    assert "Back pain with new problems controlling when you pee or poo" in answers
    assert "<li>Chest pain that does not go away</li>" in answers  # the list as the question showed it
