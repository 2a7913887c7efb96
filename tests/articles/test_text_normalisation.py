"""Text is normalised once at the boundary (import, admin), and bounded, whatever way it comes in.

Line endings become ``\\n``, text becomes Unicode NFC, surrounding whitespace goes;
control characters (other than tab and newline), bidirectional overrides and other
invisible formatting characters are refused with a message naming the field; every
text field has a documented maximum length, enforced alike by the model, the admin
and the import schema.
"""

from __future__ import annotations

import re
import unicodedata
from importlib import import_module

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles import limits
from articles.diff import diff_contents
from articles.interchange.export import content_hash, revision_content
from articles.interchange.importer import ImportRejected
from articles.models import AuditAction, AuditEntry, Reference, Revision, Section, SymptomEntry
from articles.services import article_import, revision_archive
from articles.text import forbidden_character_problem, normalise_text
from tests.articles.test_admin import change_url, form_data
from tests.factories import article_document, changed, demo_document

pytestmark = pytest.mark.django_db


def problems_of(document: dict, **kwargs) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        article_import(document=document, actor=None, **kwargs)
    assert not Revision.objects.exists(), "a rejected import writes nothing"
    return [str(problem) for problem in caught.value.problems]


# --- Import: refused characters, each named by its field ------------------------------------


@pytest.mark.parametrize(
    ("character", "described"),
    [
        ("\x00", "U+0000"),
        ("\x07", "U+0007"),
        ("\x1b", "U+001B"),
        ("\x7f", "U+007F"),
        ("\x85", "U+0085"),
        ("\x0b", "U+000B"),
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING"),
        ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
        ("\u200b", "U+200B ZERO WIDTH SPACE"),
        ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("\u2028", "U+2028 LINE SEPARATOR"),
        ("\ud800", "U+D800"),
        # Letters that show as nothing (found from outside: a title of U+3164 alone was accepted, and readers saw an
        # article with no title). Unicode lists them as default-ignorable, with the invisible formatting characters.
        ("\u3164", "U+3164 HANGUL FILLER"),
        ("\u115f", "U+115F HANGUL CHOSEONG FILLER"),
        ("\u1160", "U+1160 HANGUL JUNGSEONG FILLER"),
        ("\uffa0", "U+FFA0 HALFWIDTH HANGUL FILLER"),
        # Found by helper h3 the same way: a title or heading of U+2800 alone (a symbol, printable, not whitespace)
        # was accepted and reached readers blank; the combining grapheme joiner and the Khmer inherent vowels are
        # default-ignorable marks that show as nothing, as the fillers are.
        ("\u2800", "U+2800 BRAILLE PATTERN BLANK"),
        ("\u034f", "U+034F COMBINING GRAPHEME JOINER"),
        ("\u17b4", "U+17B4 KHMER VOWEL INHERENT AQ"),
        ("\u17b5", "U+17B5 KHMER VOWEL INHERENT AA"),
    ],
)
def test_import_refuses_control_and_invisible_characters_naming_the_field(character, described):
    body = f"Before{character}after [@ref-1]."
    problems = problems_of(changed(article_document(), **{"revision.sections.0.body": body}))
    assert len(problems) == 1, problems
    assert problems[0].startswith("revision.sections[0].body: "), problems
    assert described in problems[0]
    assert "character 7" in problems[0]


def test_import_refuses_a_right_to_left_override_in_a_title_and_nul_in_a_table_cell():
    document = changed(
        article_document(),
        **{
            "revision.title": "Safe \u202eesod elbuod",
            "revision.comparison_tables.0.rows.0.cells.col-1": "a\x00b",
        },
    )
    problems = problems_of(document)
    assert [problem.split(":")[0] for problem in problems] == [
        "revision.comparison_tables[0].rows[0].cells.col-1",
        "revision.title",
    ]


def test_import_refuses_forbidden_characters_in_a_pathway_naming_the_field(published_article, author):
    from tests.conftest import pathway_document
    from triage.interchange import PATHWAY_FORMAT

    document = pathway_document()
    document["revision"]["dispositions"][0]["advice"] = "Call 999\u202e now"
    with pytest.raises(ImportRejected) as caught:
        article_import(document=document, actor=author, fmt=PATHWAY_FORMAT)
    assert [str(p).split(":")[0] for p in caught.value.problems] == ["revision.dispositions[0].advice"]


def test_tabs_newlines_and_the_marks_ordinary_text_needs_are_kept():
    kept = "Tab\there.\n\nZWJ \u200d ZWNJ \u200c LRM \u200e RLM \u200f ALM \u061c soft\u00adhyphen [@ref-1]."
    revision = article_import(document=changed(article_document(), **{"revision.sections.0.body": kept}), actor=None)
    assert revision.sections.get(key="section-1").body == kept


# Found by helper h3 from outside: a section body holding the Markdown character reference "&#x202E;" passed the
# rule (it is eight ordinary characters), and the reader's page held U+202E RIGHT-TO-LEFT OVERRIDE itself (Markdown
# decodes references), reversing the text after it, while the reviewer's diff showed "&#x202E;". The same for
# &#8203; (zero width space), &ZeroWidthSpace; and &#x3164; (a filler). A reference to a refused character is refused.
@pytest.mark.parametrize(
    ("reference", "described"),
    [
        ("&#x202E;", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("&#X202e;", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("&#8238;", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("&#8203;", "U+200B ZERO WIDTH SPACE"),
        ("&ZeroWidthSpace;", "U+200B ZERO WIDTH SPACE"),
        ("&#x3164;", "U+3164 HANGUL FILLER"),
    ],
)
def test_import_refuses_a_character_reference_to_a_refused_character(reference, described):
    body = f"Take it {reference}daily [@ref-1]."
    problems = problems_of(changed(article_document(), **{"revision.sections.0.body": body}))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"revision.sections[0].body: contains the reference {reference} to {described}")


def test_references_to_characters_text_may_hold_are_kept():
    body = "AT&T &amp; Co &lt;5 mg&gt; caf&eacute; a&zwj;b &rlm;x &#0; [@ref-1]."
    revision = article_import(document=changed(article_document(), **{"revision.sections.0.body": body}), actor=None)
    assert revision.sections.get(key="section-1").body == body


def test_the_admin_refuses_a_character_reference_to_a_bidirectional_control(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    data = browser_form_data(client, draft)
    data["sections-0-body"] = "Take it &#x202E;daily [@ref-1]."
    response = client.post(change_url(draft), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.forms[0].errors
    assert "the reference &#x202E; to U+202E RIGHT-TO-LEFT OVERRIDE" in errors["body"][0]
    assert Section.objects.get(revision=draft, key="section-1").body == "Body 1  [@ref-1]."


def test_a_single_line_field_refuses_a_line_break():
    problems = problems_of(changed(article_document(), **{"revision.title": "First line\nsecond line"}))
    assert problems == ["revision.title: must be a single line (no line breaks)"]


# --- Import: normalised, not refused --------------------------------------------------------


def test_crlf_and_nfd_input_is_stored_as_lf_and_nfc():
    nfd = unicodedata.normalize("NFD", "Café, naïve, Ångström")
    assert nfd != unicodedata.normalize("NFC", nfd)
    document = changed(
        article_document(),
        **{
            "revision.sections.0.body": f"First paragraph.\r\n\r\nSecond, {nfd} [@ref-1].\rThird line.",
            "revision.title": f"  {nfd}  ",
            "revision.symptom_entries.0.text": f"{nfd}\r\n",
        },
    )
    revision = article_import(document=document, actor=None)
    body = revision.sections.get(key="section-1").body
    assert body == "First paragraph.\n\nSecond, Café, naïve, Ångström [@ref-1].\nThird line."
    assert unicodedata.is_normalized("NFC", body)
    assert revision.title == "Café, naïve, Ångström"
    assert SymptomEntry.objects.get(revision=revision, key="entry-1").text == "Café, naïve, Ångström"


def test_the_same_text_in_another_form_hashes_the_same(author):
    document = article_document()
    for section in document["revision"]["sections"]:
        section["body"] = unicodedata.normalize("NFD", "Café\r\n\r\n") + section["body"] + "\r\n"
    plain = article_document()
    for section in plain["revision"]["sections"]:
        section["body"] = "Café\n\n" + section["body"]
    first = article_import(document=plain, actor=None)
    revision_archive(revision=first, actor=author)  # one open draft per article
    second = article_import(document=document, actor=None)
    assert second.article_id == first.article_id
    assert content_hash(Revision.objects.with_content().get(pk=second.pk)) == content_hash(
        Revision.objects.with_content().get(pk=first.pk)
    )


# Found by helper h3 from outside: Python's NFC orders a run of combining marks in quadratic time (20,000 alternating
# marks 1.5 s, 200,000 108 s), and every text is normalised before its length is checked. A run of more than 30 (the
# Stream-Safe Text Format's limit, UAX #15) is a combining-character flood: never normalised, refused by the rule.
FLOOD_MARKS = "\u0301\u0316"  # acute (class 230) and grave below (220): NFC reorders each pair


def test_a_text_with_thirty_combining_marks_in_a_row_is_kept_and_thirty_one_are_refused():
    at_most = "e" + FLOOD_MARKS * 15
    assert forbidden_character_problem(normalise_text(at_most)) is None
    assert normalise_text(at_most) == unicodedata.normalize("NFC", at_most)
    one_over = at_most + "\u0301"
    assert normalise_text(one_over) == one_over  # left as it is: refused, not ordered
    assert forbidden_character_problem(normalise_text(one_over)) == (
        "contains 31 combining marks in a row at character 2 (at most 30 may follow one character)"
    )


def test_import_refuses_a_combining_flood_naming_the_field():
    body = "Before e" + FLOOD_MARKS * 50_000 + " after [@ref-1]."
    problems = problems_of(changed(article_document(), **{"revision.sections.0.body": body}))
    assert problems[0] == (
        "revision.sections[0].body: contains 100,000 combining marks in a row at character 9 (at most 30 may follow "
        "one character); remove it"
    ), problems


# --- Import: maximum lengths ---------------------------------------------------------------


def test_import_refuses_an_over_long_body_naming_the_field_without_truncating():
    at_limit = "x" * (limits.MAX_BODY_CHARS - len(" [@ref-1].")) + " [@ref-1]."
    assert len(at_limit) == limits.MAX_BODY_CHARS
    revision = article_import(
        document=changed(article_document(), **{"revision.sections.0.body": at_limit}), actor=None
    )
    assert revision.sections.get(key="section-1").body == at_limit

    too_long = "y" + at_limit
    problems = problems_of_with_existing(
        changed(article_document(slug="too-long"), **{"revision.sections.0.body": too_long})
    )
    assert problems == [f"revision.sections[0].body: must be at most {limits.MAX_BODY_CHARS:,} characters"]


def problems_of_with_existing(document: dict) -> list[str]:
    before = Revision.objects.count()
    with pytest.raises(ImportRejected) as caught:
        article_import(document=document, actor=None)
    assert Revision.objects.count() == before
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("revision.summary", limits.MAX_SUMMARY_CHARS),
        ("revision.title", 200),
        ("revision.change_summary", 300),
        ("revision.symptom_entries.0.text", limits.MAX_BODY_CHARS),
        ("revision.action_steps.0.body", limits.MAX_BODY_CHARS),
        ("revision.callouts.0.body", limits.MAX_BODY_CHARS),
        ("revision.comparison_tables.0.rows.0.cells.col-1", None),
        ("revision.references.0.authors", 500),
        ("symptoms.0.description", None),
        ("article.topic", 200),
        ("revision.topic", 200),
    ],
)
def test_import_refuses_every_over_long_text_field_by_name(path, limit):
    from articles.interchange.schema import SCHEMA

    node = SCHEMA
    for part in path.split("."):
        if part.isdigit():
            node = node["items"]
        elif "properties" in node:
            node = node["properties"][part]
        else:
            node = node["additionalProperties"]
    assert "maxLength" in node, f"{path} has no maximum length in the import schema"
    if limit is not None:
        assert node["maxLength"] == limit
    problems = problems_of(changed(article_document(), **{path: "z" * (node["maxLength"] + 1)}))
    shown = path.replace(".0.", "[0].").replace(".0", "[0]")
    assert problems == [f"{shown}: must be at most {node['maxLength']:,} characters"]


def every_string_without_a_maximum(schema: dict, at: str = "") -> list[str]:
    missing = []
    if schema.get("type") in ("string", ["string", "null"]) and not (
        "maxLength" in schema or "enum" in schema or "const" in schema or schema.get("format") == "date"
    ):
        missing.append(at or "(root)")
    for name, child in schema.get("properties", {}).items():
        missing.extend(every_string_without_a_maximum(child, f"{at}.{name}"))
    for word in ("items", "additionalProperties"):
        if isinstance(schema.get(word), dict):
            missing.extend(every_string_without_a_maximum(schema[word], f"{at}[{word}]"))
    return missing


def test_every_text_in_the_article_and_pathway_schemas_has_a_maximum():
    from articles.interchange.schema import SCHEMA
    from triage.interchange import SCHEMA as PATHWAY_SCHEMA

    assert every_string_without_a_maximum(SCHEMA) == []
    assert every_string_without_a_maximum(PATHWAY_SCHEMA) == []


def test_import_refuses_an_over_long_pathway_rationale(published_article, author):
    from tests.conftest import pathway_document
    from triage.interchange import PATHWAY_FORMAT
    from triage.models import Vignette

    limit = Vignette._meta.get_field("rationale").max_length
    assert limit is not None
    document = pathway_document()
    document["revision"]["vignettes"][0]["rationale"] = "r" * (limit + 1)
    with pytest.raises(ImportRejected) as caught:
        article_import(document=document, actor=author, fmt=PATHWAY_FORMAT)
    assert [str(p) for p in caught.value.problems] == [
        f"revision.vignettes[0].rationale: must be at most {limit:,} characters"
    ]


# --- Admin: an unchanged save changes nothing ------------------------------------------------


def browser_form_data(client, revision: Revision) -> dict[str, object]:
    """The change form posted back unchanged as a browser does: CRLF line endings, hidden initial values too."""
    data = form_data(client, revision)
    context = client.get(change_url(revision)).context
    for inline in context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            for name, field in form.fields.items():
                if field.show_hidden_initial and form[name].initial is not None:
                    data[form.add_initial_prefix(name)] = form[name].initial
    return {name: value.replace("\n", "\r\n") if isinstance(value, str) else value for name, value in data.items()}


def test_an_unchanged_admin_save_leaves_the_content_hash_and_the_diff_unchanged(client, workflow, author):
    live = workflow.live(demo_document())
    draft = workflow.next_draft(live)
    before = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    hash_before = content_hash(Revision.objects.with_content().get(pk=draft.pk))
    assert any("\n\n" in section["body"] for section in before["sections"])

    client.force_login(author)
    data = browser_form_data(client, draft)
    assert any("\r\n" in value for value in data.values() if isinstance(value, str))
    response = client.post(change_url(draft), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response

    after = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    assert content_hash(Revision.objects.with_content().get(pk=draft.pk)) == hash_before
    assert not diff_contents(before, after).has_changes
    assert not diff_contents(revision_content(Revision.objects.with_content().get(pk=live.pk)), after).changed_lists
    # Nothing changed, so nothing was saved: no new version, no "saved" entry (services.revision_save_draft).
    assert not AuditEntry.objects.filter(revision=draft, action=AuditAction.SAVE_DRAFT).exists()
    assert Revision.objects.get(pk=draft.pk).lock_version == draft.lock_version


def test_an_admin_edit_is_stored_with_lf_line_endings_and_nfc(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    data = browser_form_data(client, draft)
    nfd = unicodedata.normalize("NFD", "Ménière")
    data["sections-0-body"] = f"One.\r\n\r\nTwo {nfd} [@ref-1]."
    assert client.post(change_url(draft), data).status_code == 302
    assert Section.objects.get(revision=draft, key="section-1").body == "One.\n\nTwo Ménière [@ref-1]."


def test_an_admin_edit_of_a_reference_address_is_stored_nfc_as_an_import_stores_it(client, workflow, author):
    # Found by helper h3 from outside (gunicorn on PostgreSQL, demo-author adding a reference in the admin): a URL
    # typed with a decomposed accent was stored as typed (63 61 66 65 cc 81, "cafe" + U+0301) beside a title stored
    # NFC (c3 a9): Reference.url was Django's URLField, outside the one text rule, while an import normalised the
    # same address, so the same reference hashed and diffed differently by the way it came in.
    address = "https://example.org/caf\u00e9-m\u00e9ni\u00e8re"
    draft = workflow.draft()
    client.force_login(author)
    data = browser_form_data(client, draft)
    field = next(name for name in data if re.fullmatch(r"references-\d+-url", name))
    key = data[field.removesuffix("url") + "key"]
    data[field] = unicodedata.normalize("NFD", address)
    response = client.post(change_url(draft), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert Reference.objects.get(revision=draft, key=key).url == address
    hash_after = content_hash(Revision.objects.with_content().get(pk=draft.pk))
    version = Revision.objects.get(pk=draft.pk).lock_version

    # The composed address is the same text: saving it again is no change.
    data = browser_form_data(client, draft)
    data[field] = address
    assert client.post(change_url(draft), data).status_code == 302
    assert content_hash(Revision.objects.with_content().get(pk=draft.pk)) == hash_after
    assert Revision.objects.get(pk=draft.pk).lock_version == version


@pytest.mark.parametrize("character", ["\x00", "\u202e", "\x1b", "\u3164"])
def test_the_admin_refuses_forbidden_characters_on_the_field(client, workflow, author, character):
    draft = workflow.draft()
    client.force_login(author)
    data = browser_form_data(client, draft)
    data["sections-0-body"] = f"Text{character} [@ref-1]."
    response = client.post(change_url(draft), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.forms[0].errors
    assert list(errors) == ["body"], errors
    assert f"U+{ord(character):04X}" in errors["body"][0]
    assert Section.objects.get(revision=draft, key="section-1").body == "Body 1  [@ref-1]."


@pytest.mark.parametrize(("character", "described"), [("\u3164", "HANGUL FILLER"), ("\u2800", "BRAILLE PATTERN BLANK")])
def test_the_admin_refuses_a_title_that_shows_as_nothing(client, workflow, author, character, described):
    draft = workflow.draft()
    client.force_login(author)
    data = browser_form_data(client, draft)
    title = Revision.objects.get(pk=draft.pk).title
    data["title"] = character
    response = client.post(change_url(draft), data)
    assert response.status_code == 200
    assert f"U+{ord(character):04X} {described}" in str(response.context["adminform"].form.errors["title"])
    assert Revision.objects.get(pk=draft.pk).title == title


def test_the_admin_refuses_an_over_long_body_and_saves_nothing(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    data = browser_form_data(client, draft)
    data["sections-0-body"] = "b" * (limits.MAX_BODY_CHARS + 1)
    response = client.post(change_url(draft), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.forms[0].errors
    assert "body" in errors
    assert f"{limits.MAX_BODY_CHARS:,}" in errors["body"][0] or str(limits.MAX_BODY_CHARS) in errors["body"][0]
    assert Section.objects.get(revision=draft, key="section-1").body == "Body 1  [@ref-1]."
    assert Revision.objects.get(pk=draft.pk).lock_version == 0


def test_the_admin_refuses_an_over_long_summary(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    data = browser_form_data(client, draft)
    data["summary"] = "s" * (limits.MAX_SUMMARY_CHARS + 1)
    response = client.post(change_url(draft), data)
    assert response.status_code == 200
    assert "summary" in response.context["adminform"].form.errors
    assert Revision.objects.get(pk=draft.pk).summary == draft.summary


def test_an_over_long_review_comment_is_refused_with_a_message(client, workflow, author, reviewer):
    draft = workflow.draft()
    client.force_login(reviewer)
    response = client.post(
        f"/admin/articles/revision/{draft.pk}/comment/", {"body": "c" * (limits.MAX_COMMENT_CHARS + 1)}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Comment not added. Ensure this value has at most 5000 characters (it has 5001)." in html
    assert not draft.comments.exists()


def test_the_model_refuses_an_over_long_text_field():
    from django.core.exceptions import ValidationError

    revision = article_import(document=article_document(), actor=None)
    section = revision.sections.first()
    section.body = "m" * (limits.MAX_BODY_CHARS + 1)
    with pytest.raises(ValidationError) as caught:
        section.full_clean()
    assert "body" in caught.value.message_dict


# --- Any text at all: refused by name, or stored in its normal form ----------------------------

any_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=60) | st.text(
    alphabet=st.sampled_from("a\u0301e\u0308\r\n \t\x00\u202e\u200b\u200d\u00ad\ufeff\u2028"), min_size=1, max_size=20
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=any_text.filter(lambda text: "[" not in text))
def test_any_text_is_refused_by_its_field_or_stored_normalised(text):
    body = text + " [@ref-1]"
    document = changed(article_document(), **{"revision.sections.0.body": body})
    with transaction.atomic():
        if forbidden_character_problem(normalise_text(body)) is not None:
            with pytest.raises(ImportRejected) as caught:
                article_import(document=document, actor=None)
            assert [problem.path for problem in caught.value.problems] == ["revision.sections[0].body"]
        else:
            revision = article_import(document=document, actor=None)
            assert revision.sections.get(key="section-1").body == normalise_text(body)
        transaction.set_rollback(True)


# --- The documentation lists the same maxima ---------------------------------------------------


def maxima(schema: dict, at: str = "") -> list[tuple[str, int]]:
    """Every text in a schema with its maximum length, as ``(path, maximum)``: ``revision.sections[].body``."""
    found = []
    if "maxLength" in schema:
        found.append((at, schema["maxLength"]))
    for name, child in schema.get("properties", {}).items():
        found.extend(maxima(child, f"{at}.{name}" if at else name))
    if isinstance(schema.get("items"), dict):
        found.extend(maxima(schema["items"], f"{at}[]"))
    if isinstance(schema.get("additionalProperties"), dict):
        found.extend(maxima(schema["additionalProperties"], f"{at}.*"))
    return found


@pytest.mark.parametrize(
    ("document", "module", "prefix"),
    [
        ("article-format.md", "articles.interchange.schema", ""),
        # A pathway file shares the article format's envelope, documented there.
        ("pathway-format.md", "triage.interchange", "revision."),
    ],
)
def test_the_format_documents_list_every_maximum_length(settings, document, module, prefix):
    schema = import_module(module).SCHEMA
    text = (settings.BASE_DIR / "docs" / document).read_text(encoding="utf-8")
    rows = {line for line in text.splitlines() if line.startswith("| `")}
    expected = {f"| `{path}` | {maximum:,} |" for path, maximum in maxima(schema) if path.startswith(prefix)}
    assert expected - rows == set(), "add these rows to the table of maximum lengths"
    assert {row for row in rows if row.count("|") == 3} - expected == set(), "these rows are out of date"


def test_a_draft_copied_from_older_content_cannot_be_submitted_with_hidden_characters(workflow, author):
    """Reviewed content from before the rule keeps its bytes; a copy of it must be cleaned before review."""
    from django.core.exceptions import ValidationError

    from articles import services
    from articles.models import Revision, RevisionState, Section

    live = workflow.live()
    Section.objects.filter(revision=live, key="section-1").update(body="Legacy \u202etext [@ref-1].")
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    with pytest.raises(ValidationError, match="U\\+202E") as refused:
        services.revision_submit(revision=draft, actor=author, change_summary="Copied.")
    assert "sections[0].body" in str(refused.value)
    assert Revision.objects.get(pk=draft.pk).state == RevisionState.DRAFT
