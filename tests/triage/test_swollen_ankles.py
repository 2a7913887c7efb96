"""The second demo pathway, "Swollen ankles, feet or legs": built from its guidance rows, published by load_demo."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from articles.models import AuditAction, AuditEntry, ClinicalReview, Revision, RevisionState
from tests.conftest import PartnerClient
from tests.pages import page_text
from tests.triage.test_pathways import assert_each_row_gives_at_least_its_disposition, red_flag_rows
from tests.triage.test_steps import evaluate, every_question_page
from triage.demo import __file__ as demo_init
from triage.models import PATHWAY
from triage.wording import list_items

pytestmark = pytest.mark.django_db

SLUG = "swollen-ankles-feet-legs-amlodipine"
NUMBNESS = "numbness-tingling-weakness-amlodipine"
URL = f"/triage/{SLUG}/"
# Each row of the guidance's second table, in order, and the question(s) that ask about it.
ROW_QUESTIONS = [
    ["both-ankles-or-feet"],
    ["breathless-or-weight-gain"],
    ["one-leg"],
    ["one-leg-and-breathless-or-chest-pain"],
    ["mouth-or-throat-swelling"],
]


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())
    return Revision.objects.of_kind(PATHWAY).get(article__slug=SLUG)


def all_no(revision: Revision) -> dict[str, str]:
    return {question.key: "no" for question in revision.triage_questions.all()}


def test_load_demo_publishes_both_pathways_through_the_workflow(demo):
    for slug in (NUMBNESS, SLUG):
        revision = Revision.objects.of_kind(PATHWAY).get(article__slug=slug)
        assert revision.state == RevisionState.PUBLISHED, slug
        review = ClinicalReview.objects.get(revision=revision)
        assert review.reviewer.username == "demo-reviewer"
        assert review.reviewer_is_demonstration
        actions = list(AuditEntry.objects.filter(revision=revision).values_list("action", flat=True))
        for action in (AuditAction.SUBMIT, AuditAction.APPROVE, AuditAction.PUBLISH):
            assert action in actions, (slug, action)
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "nothing changed" in out.getvalue()


@pytest.mark.parametrize("slug", [NUMBNESS, SLUG])
def test_both_demo_pathways_pass_every_check_and_their_vignettes_exactly(demo, slug):
    out = io.StringIO()
    call_command("check_pathway", slug, stdout=out)
    assert "All safety checks pass." in out.getvalue()
    assert "warning:" not in out.getvalue()  # no vignette over-triaged either


def test_every_row_of_the_second_table_leads_to_at_least_its_disposition(demo):
    rows = red_flag_rows(1)
    assert [row[0].split(",")[0] for row in rows] == [
        "Swollen ankles or feet on both sides",
        "Swelling with breathlessness",
        "Swelling",
        "One-leg swelling or pain with breathlessness",
        "Sudden swelling of the lips",
    ]
    assert_each_row_gives_at_least_its_disposition(demo, rows, ROW_QUESTIONS)


def test_each_rule_cites_its_guidance_row(demo):
    for rule in demo.triage_rules.all():
        assert re.search(r"\((?:second pathway|first table), row \d\)$", rule.description), rule.description


def test_the_api_lists_both_pathways(client, api_key, demo):
    api = PartnerClient(client, api_key)
    body = api.json("/api/v1/pathways/")
    listed = [item["slug"] for item in body.get("results", body)]
    assert NUMBNESS in listed
    assert SLUG in listed
    detail = api.json(f"/api/v1/pathways/{SLUG}/")
    red_flags_first = ["mouth-or-throat-swelling", "one-leg-and-breathless-or-chest-pain", "chest-pain"]
    assert [q["key"] for q in detail["questions"]][:3] == red_flags_first


def test_swollen_ankles_alone_says_mention_it_and_links_the_article(client, demo):
    text = page_text(client.post(URL, all_no(demo) | {"both-ankles-or-feet": "yes"}).content.decode())
    assert "Mention the swelling to your doctor or pharmacist" in text
    assert "Swollen ankles are a common side effect of amlodipine" in text
    assert "Do not stop taking your medicine without talking to your doctor." in text
    assert "Amlodipine and peripheral neuropathy (nerve damage)" in text
    assert "warning sign" not in text


def test_one_swollen_leg_and_breathlessness_is_an_emergency(client, demo):
    answers = all_no(demo) | {"one-leg-and-breathless-or-chest-pain": "yes", "one-leg": "yes"}
    text = page_text(client.post(URL, answers).content.decode())
    assert "Call the emergency number now" in text
    assert "possible pulmonary embolism" in text


def test_the_signs_are_listed_on_the_page(client, demo):
    # One question per page: the signs of each question are on its own page.
    html = "".join(page.content.decode() for page in every_question_page(client, URL))
    items = [page_text(item) for item in re.findall(r"<li>(.*?)</li>", html, re.DOTALL)]
    for question in demo.triage_questions.all():
        for sign in list_items(question.help_text):
            assert sign in items, (question.key, sign)


def test_the_demo_file_is_an_export_of_itself(demo, tmp_path):
    from pathlib import Path

    path = Path(demo_init).resolve().parent / f"{SLUG}.json"
    out = tmp_path / "pathway.json"
    call_command("export_pathway", SLUG, "-o", str(out), stdout=io.StringIO())
    assert out.read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    "answer", ["mouth-or-throat-swelling", "one-leg-and-breathless-or-chest-pain", "chest-pain", "one-leg"]
)
def test_a_result_gives_its_reasons_without_the_guidance_row_it_cites(client, demo, answer):
    # The row a rule cites is for its reviewers; a reader is never pointed to internal sources (issue 11, item 2).
    text = page_text(client.post(URL, all_no(demo) | {answer: "yes"}).content.decode())
    why = text.split("Why")[1].split("What to do now")[0]
    assert why.strip()
    assert not re.search(r"\brow \d|second pathway|first table", why), why


def test_a_reader_who_says_no_to_the_red_flags_is_asked_about_their_ankles(client, demo):
    # The fallback and "mention the swelling" are equally urgent, but only this question tells them apart:
    # stopping before it told a reader with swollen ankles "your answers do not include the symptoms".
    pages = every_question_page(client, URL)
    assert len(pages) == demo.triage_questions.count()
    assert 'id="question-both-ankles-or-feet"' in pages[-1].content.decode()


def test_the_api_is_not_complete_until_the_ankle_question_is_answered(api, demo):
    others_no = {key: "no" for key in all_no(demo) if key != "both-ankles-or-feet"}
    body = evaluate(api, others_no, SLUG)
    assert (body["complete"], body["next_question"], body["disposition"]) == (False, "both-ankles-or-feet", None)
    body = evaluate(api, others_no | {"both-ankles-or-feet": "yes"}, SLUG)
    assert (body["complete"], body["disposition"]["key"]) == (True, "mention-the-swelling")
