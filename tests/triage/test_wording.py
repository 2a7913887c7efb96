"""Questions a reader cannot misread: the wording checks block submission, and the demo pathways pass them."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from articles import services
from tests.conftest import pathway_document
from tests.pages import page_text
from tests.triage.test_steps import every_question_page
from triage.interchange import PATHWAY_FORMAT
from triage.wording import MAX_LIST_ITEM_WORDS, MAX_QUESTION_WORDS, list_items, wording_errors, words

DEMO = Path(__file__).resolve().parents[2] / "triage" / "demo"
SLUG = "numbness-tingling-weakness-amlodipine"
URL = f"/triage/{SLUG}/"

# The demo pathway's questions as they were before issue 11, each a way to misread it.
STROKE_BEFORE = (
    "Do you have sudden numbness or weakness on one side of your face, arm or leg, a drooping face or slurred "
    "speech, or can you not lift both arms? Answer yes even if it has passed."
)
GUILLAIN_BARRE_BEFORE = (
    "Is numbness and weakness in both arms or both legs getting worse over hours to days, or spreading upwards?"
)
CHEST_PAIN_BEFORE = "Do you have chest pain that does not go away, or angina that is new or getting worse?"
BALANCE_HINT_BEFORE = "The source article notes that loss of balance can increase the risk of falls."


def revision_with(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(pathway_document())
    change({q["key"]: q for q in document["revision"]["questions"]})
    return document


def codes(document: dict[str, Any]) -> set[str]:
    return {finding.code for finding in wording_errors(document["revision"])}


@pytest.mark.parametrize("path", sorted(DEMO.glob("*.json")), ids=lambda path: path.stem)
def test_the_demo_pathways_pass_the_wording_checks(path):
    revision = json.loads(path.read_text(encoding="utf-8"))["revision"]
    assert wording_errors(revision) == []
    for question in revision["questions"]:
        assert words(question["text"]) <= MAX_QUESTION_WORDS
        assert all(words(item) <= MAX_LIST_ITEM_WORDS for item in list_items(question["help_text"]))


@pytest.mark.parametrize(
    ("key", "field", "before", "code"),
    [
        ("stroke", "text", STROKE_BEFORE, "question_too_long:stroke"),
        ("spreading-weakness", "text", GUILLAIN_BARRE_BEFORE, "duration_threshold:spreading-weakness"),
        ("chest-pain", "text", CHEST_PAIN_BEFORE, "unexplained_term:chest-pain"),
        ("poor-balance", "help_text", BALANCE_HINT_BEFORE, "internal_reference:poor-balance"),
        (
            "diabetic-foot",
            "help_text",
            "- A new wound or ulcer on your foot, or a foot that is red, hot or swollen",
            "list_item_too_long:diabetic-foot",
        ),
        ("yellow-skin-or-eyes", "help_text", "See the guidance for what yellow means.", "internal_reference:"),
        ("diabetic-foot", "help_text", "- A new wound or ulcer on your foot", "unexplained_term:diabetic-foot"),
    ],
)
def test_each_way_to_misread_a_question_is_an_error(key, field, before, code):
    def change(questions: dict[str, Any]) -> None:
        if field == "text":
            questions[key]["help_text"] = ""  # as before issue 11: no hint
        questions[key][field] = before

    found = codes(revision_with(change))
    assert any(found_code.startswith(code) for found_code in found), found


def test_a_medical_word_is_explained_in_brackets_or_by_the_hint():
    def in_brackets(questions: dict[str, Any]) -> None:
        questions["chest-pain"]["text"] = "Is your angina (chest pain from a heart problem) new or worse?"
        questions["chest-pain"]["help_text"] = ""

    def by_the_hint(questions: dict[str, Any]) -> None:
        questions["chest-pain"]["text"] = "Is your angina new or worse?"
        questions["chest-pain"]["help_text"] = "Angina is chest pain caused by a heart problem."

    assert codes(revision_with(in_brackets)) == set()
    assert codes(revision_with(by_the_hint)) == set()


def test_hard_words_everywhere_raise_the_reading_grade_above_the_limit():
    def hard(questions: dict[str, Any]) -> None:
        for question in questions.values():
            question["text"] = "Have you experienced intermittent paraesthesia (abnormal sensation) bilaterally?"
            question["help_text"] = ""

    assert "question_reading_grade" in codes(revision_with(hard))


def test_a_pathway_worded_as_before_cannot_be_submitted(published_article, author):
    def before(questions: dict[str, Any]) -> None:
        questions["stroke"]["text"] = STROKE_BEFORE
        questions["poor-balance"]["help_text"] = BALANCE_HINT_BEFORE

    draft = services.article_import(document=revision_with(before), actor=author, fmt=PATHWAY_FORMAT)
    with pytest.raises(ValidationError) as caught:
        services.revision_submit(revision=draft, actor=author, change_summary="As before.")
    messages = " ".join(caught.value.messages)
    assert "Question stroke has 36 words" in messages
    assert "refers to “source article”" in messages
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_pathway", SLUG, stdout=out)
    assert "ERROR: Question stroke has 36 words" in out.getvalue()


# --- What the reader sees ------------------------------------------------------------------------


def test_each_sign_of_a_question_is_a_list_item_on_the_page(client, published_pathway):
    # One question per page: the signs of each question are on its own page.
    html = "".join(page.content.decode() for page in every_question_page(client, URL))
    items = [page_text(item) for item in re.findall(r"<li>(.*?)</li>", html, re.DOTALL)]
    for question in published_pathway.triage_questions.all():
        for sign in list_items(question.help_text):
            assert page_text(sign) in items, (question.key, sign)
    assert "New or worse angina (chest pain caused by a heart problem)" in items


def test_gradual_tingling_is_not_called_a_warning_sign(client, published_pathway):
    answers = {q.key: "no" for q in published_pathway.triage_questions.all()} | {"numbness-or-tingling": "yes"}
    text = page_text(client.post(URL, answers).content.decode())
    assert "See your doctor in the next few days" in text
    assert "warning sign" not in text
