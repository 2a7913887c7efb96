"""Sections as articles need them (issue 13, item 5): a heading alone, or a lead-in and a list.

A section's body may be empty: the heading then introduces what is attached to the section
(symptoms, a table, actions). A body is CommonMark, so paragraphs and lists follow each other
in any order and number. A heading with nothing under it at all is a mistake that blocks
submission.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from articles import services
from articles.content_checks import check_revision
from articles.diff import diff_contents
from articles.interchange.export import dumps_document, revision_content, revision_document
from articles.interchange.importer import ImportRejected, load_document
from articles.interchange.schema import SCHEMA
from articles.models import Revision, Section
from articles.rendering import cited_keys, markdown_facts, render_markdown
from articles.structured_text import revision_plain_text
from tests.articles.test_admin import change_url, form_data
from tests.factories import article_document, as_bytes

pytestmark = pytest.mark.django_db

LEAD_IN_LIST = "Intro:\n\n- a\n- b\n\nAfter the list."


def heading_only_document(*, with_rows: bool = True, body: Any = "") -> dict[str, Any]:
    """Section 2 has a heading and no text; with rows, the symptom entries are listed under it."""
    document = article_document(sections=3)
    section = document["revision"]["sections"][1]
    if body is None:
        del section["body"]
    else:
        section["body"] = body
    if with_rows:
        for entry in document["revision"]["symptom_entries"]:
            entry["section"] = "section-2"
    return document


def with_content(revision: Revision) -> Revision:
    return Revision.objects.with_content().get(pk=revision.pk)


def blocks(html: str) -> list[str]:
    """The top-level block tags of rendered Markdown, in order."""
    return re.findall(r"^<(p|ul|ol|h\d|blockquote|pre|hr)\b", html, re.M)


# --- The body's grammar: paragraphs and lists in any order --------------------------------


def test_text_may_follow_a_list():
    html = render_markdown(LEAD_IN_LIST)
    assert html == "<p>Intro:</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<p>After the list.</p>\n"


def test_paragraphs_and_lists_in_any_order_and_number():
    body = "- first list\n\nA paragraph.\n\n1. one\n2. two\n\nAnother.\n\nAnd another.\n\n- last list"
    assert blocks(render_markdown(body)) == ["ul", "p", "ol", "p", "p", "ul"]


def test_a_lead_in_list_may_be_only_a_list():
    assert blocks(render_markdown("- a\n- b")) == ["ul"]


def test_an_empty_body_renders_nothing():
    assert render_markdown("") == ""


# A line straight after a list item, with no blank line between, continues that item (CommonMark's
# lazy continuation): the text an author meant to follow the list shows inside its last item.
@pytest.mark.parametrize(
    ("body", "lazy"),
    [
        ("Intro:\n\n- a\n- b\nAfter the list.", ["After the list."]),
        ("1. one\n2. two\nAfter [@r1].\n\nA paragraph.\n- c\nAnd more.", ["After [@r1].", "And more."]),
        ("- outer\n  - inner\nLazy.", ["Lazy."]),
        (LEAD_IN_LIST, []),
        ("- an item\n  wrapped and indented", []),
        ("A paragraph\nof two lines.", []),
        ("> - quoted\n> still quoted", []),
        ("- a\n\n  a second paragraph in the item\n\nAfter.", []),
        ("", []),
    ],
)
def test_text_run_on_from_a_list_item_is_found(body, lazy):
    facts = markdown_facts(body)
    assert facts.lazy_lines == lazy
    assert facts.cited_keys == cited_keys(body)


# Found from outside (stop 27's probe as a clinician): a table written in Markdown's pipe syntax is not
# CommonMark, so readers saw its rows run together in one paragraph of bars and dashes, with no warning.
@pytest.mark.parametrize(
    ("body", "tables"),
    [
        ("| Symptom | What to do |\n| --- | --- |\n| Tingling | Tell your GP |", ["| Symptom | What to do |"]),
        ("Intro.\n\nSymptom | Do\n:--|--:\nTingling | GP", ["Symptom | Do"]),
        ("- an item\n\n  | a | b |\n  |---|---|", ["| a | b |"]),
        ("A paragraph --- with a dash.\n\n---\n\nAfter a rule.", []),
        ("```\n| a | b |\n| - | - |\n```", []),
        ("Heading\n---", []),
        ("", []),
    ],
)
def test_a_table_written_in_markdown_is_found(body, tables):
    assert markdown_facts(body).table_lines == tables


def test_a_table_written_in_markdown_is_a_warning(workflow):
    warning = third_section_warning(workflow, "| Symptom | What to do |\n| --- | --- |\n| Tingling | Tell your GP |")
    assert (warning.code, warning.where) == ("markdown_table:section-3", "section “Heading 3”")
    assert "“| Symptom | What to do |”" in warning.message
    assert "comparison table" in warning.message


# --- Model and import ----------------------------------------------------------------------


def test_a_section_may_have_no_body():
    Section(revision=Revision(), key="lead-in", position=1, heading="Reported symptoms", body="").clean_fields(
        exclude=["revision"]
    )


def test_a_heading_still_is_required():
    with pytest.raises(ValidationError) as caught:
        Section(key="lead-in", position=1, heading="", body="Text.").clean_fields(exclude=["revision"])
    assert "heading" in caught.value.message_dict


def test_the_schema_does_not_require_a_body():
    section = SCHEMA["properties"]["revision"]["properties"]["sections"]["items"]
    assert section["required"] == ["key", "position", "heading"]
    assert "minLength" not in section["properties"]["body"]
    assert "minLength" in section["properties"]["heading"]


@pytest.mark.parametrize("body", ["", None, "  \n "], ids=["empty", "missing", "whitespace"])
def test_a_heading_only_section_imports_and_exports_as_an_empty_body(workflow, body):
    revision = workflow.draft(heading_only_document(body=body))
    assert Section.objects.get(revision=revision, key="section-2").body == ""
    exported = revision_document(with_content(revision))
    assert exported["revision"]["sections"][1] == {
        "key": "section-2",
        "position": 2,
        "heading": "Heading 2",
        "body": "",
    }


def test_a_heading_only_section_and_a_lead_in_list_round_trip(workflow):
    document = heading_only_document()
    document["revision"]["sections"][2]["body"] = LEAD_IN_LIST
    first = dumps_document(revision_document(with_content(workflow.draft(document))))
    exported = load_document(first.encode())
    exported["article"]["slug"] = "another-slug"  # imported as another article, beside the first
    again = dumps_document(revision_document(with_content(workflow.draft(exported))))
    assert json.loads(again)["revision"] == json.loads(first)["revision"]
    assert json.loads(first)["revision"]["sections"][2]["body"] == LEAD_IN_LIST


def test_a_heading_is_still_required_on_import(workflow):
    document = heading_only_document()
    document["revision"]["sections"][1]["heading"] = ""
    with pytest.raises(ImportRejected) as caught:
        workflow.draft(load_document(as_bytes(document)))
    assert [str(problem) for problem in caught.value.problems] == ["revision.sections[1].heading: must not be empty"]


# --- Content checks --------------------------------------------------------------------------


def test_a_heading_with_rows_under_it_passes_the_checks(workflow):
    report = check_revision(with_content(workflow.draft(heading_only_document(with_rows=True))))
    assert report.errors == []


@pytest.mark.parametrize("attach", ["symptom_entries", "comparison_tables", "action_steps"])
def test_any_kind_of_row_under_a_heading_is_enough(workflow, attach):
    document = heading_only_document(with_rows=False)
    for row in document["revision"][attach]:
        row["section"] = "section-2"
    assert check_revision(with_content(workflow.draft(document))).errors == []


def test_a_heading_with_nothing_under_it_blocks_submission(workflow, author):
    draft = workflow.draft(heading_only_document(with_rows=False))
    report = check_revision(with_content(draft))
    assert [(error.code, error.where) for error in report.errors] == [
        ("empty_section:section-2", "section “Heading 2”")
    ]
    with pytest.raises(ValidationError, match="has no text and nothing placed under it"):
        services.revision_submit(revision=draft, actor=author, change_summary="First.")


def third_section_warning(workflow: Any, body: str) -> Any:
    """The one warning (and no error) the content checks give a draft whose third section's text is ``body``."""
    document = heading_only_document()
    document["revision"]["sections"][2]["body"] = body
    report = check_revision(with_content(workflow.draft(document)))
    assert report.errors == []
    (warning,) = report.warnings
    return warning


def test_text_run_on_from_a_list_is_a_warning(workflow):
    warning = third_section_warning(workflow, "Intro:\n\n- a\n- b\nAfter the list.")
    assert warning.code == "list_run_on:section-3"
    assert warning.where == "section “Heading 3”"
    assert "“After the list.”" in warning.message
    assert "blank line" in warning.message


# --- What readers and partners see -------------------------------------------------------------


def test_the_page_shows_the_heading_then_its_rows(client, workflow):
    document = heading_only_document()
    document["revision"]["sections"][2]["body"] = LEAD_IN_LIST
    workflow.live(document)
    html = client.get("/articles/test-medicine-side-effect/").content.decode()
    section = html.split('id="section-section-2"', 1)[1].split("</section>", 1)[0]
    heading, rest = section.split("</h2>", 1)
    assert "Heading 2" in heading
    assert "<p>" not in rest
    assert rest.lstrip().startswith('<ul class="symptom-list">')
    assert rest.count("<li>") == 2
    lead_in = html.split('id="section-section-3"', 1)[1].split("</section>", 1)[0]
    assert blocks(lead_in.split("</h2>", 1)[1].replace("\n        ", "\n")) == ["p", "ul", "p"]
    assert '<a href="#section-section-2">Heading 2</a>' in html


def test_the_api_gives_an_empty_body_as_empty_markdown_and_html(api, workflow):
    workflow.live(heading_only_document())
    payload = api.json("/api/v1/articles/test-medicine-side-effect/")
    section = payload["content"]["sections"][1]
    assert section == {"key": "section-2", "position": 2, "heading": "Heading 2", "markdown": "", "html": ""}
    assert {entry["section"] for entry in payload["content"]["symptoms"]} == {"section-2"}


def test_the_plain_text_keeps_the_heading_of_a_heading_only_section(workflow):
    text = revision_plain_text(with_content(workflow.draft(heading_only_document())))
    assert "\nHeading 2.\nHeading 3.\n" in text  # no empty line for the empty body


def test_the_diff_shows_a_body_added_to_a_heading_only_section(workflow):
    old = revision_content(with_content(workflow.draft(heading_only_document())))
    new = json.loads(json.dumps(old))
    new["sections"][1]["body"] = LEAD_IN_LIST
    diff = diff_contents(old, new)
    row = next(row for row in diff.get_list("sections").rows if row.key == "section-2")
    assert row.marks == ("changed",)
    assert not diff_contents(old, json.loads(json.dumps(old))).has_changes


# --- Authors in the admin ---------------------------------------------------------------------


def test_an_author_may_clear_a_section_body_in_the_admin(client, workflow, author):
    draft = workflow.draft(references=0)  # section-1 has the symptom entries and the table placed in it
    client.force_login(author)
    data = form_data(client, draft)
    assert data["sections-0-body"]
    data["sections-0-body"] = ""
    response = client.post(change_url(draft), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert Section.objects.get(revision=draft, key="section-1").body == ""
    assert check_revision(with_content(draft)).errors == []
