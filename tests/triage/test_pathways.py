"""Pathways as reviewed content: safety checks block approval; pages and API answer alike; nothing is stored."""

from __future__ import annotations

import copy
import io
import itertools
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from articles import services
from articles.models import Revision, RevisionState
from tests.api.problems import problem, problem_fields
from tests.conftest import PartnerClient, approve, pathway_document
from tests.pages import page_text, sitemap_locations
from triage.content import pathway_for
from triage.engine import Level, evaluate, normalise_answers
from triage.interchange import PATHWAY_FORMAT
from triage.models import PATHWAY, OutcomeCount

pytestmark = pytest.mark.django_db

SLUG = "numbness-tingling-weakness-amlodipine"
URL = f"/triage/{SLUG}/"
# What the page for a check not found reads: two reads of the article table by the address, by index.
QUERIES_OF_A_CHECK_NOT_FOUND = 2
RED_FLAGS = Path(__file__).resolve().parents[2] / "triage" / "demo" / "source" / "triage-red-flags.md"
# Each row of triage-red-flags.md, in order, and the question(s) that ask about it.
RED_FLAG_QUESTIONS = [
    ["stroke"],
    ["spreading-weakness"],
    ["breathing-swallowing-speaking"],
    ["bladder-bowel"],
    ["chest-pain"],
    ["allergic-reaction"],
    ["yellow-skin-or-eyes"],
    ["diabetic-foot"],
    ["numbness-or-tingling", "weakness-or-cramping", "poor-balance", "burning-or-aching-pain"],
]


def all_no(revision: Revision) -> dict[str, str]:
    return {question.key: "no" for question in revision.triage_questions.all()}


def unquote(text: str) -> str:
    return text.replace("“", '"').replace("”", '"')


def red_flag_rows(table: int = 0) -> list[tuple[str, Level, str]]:
    """The rows of the guidance's ``table``-th table (0: the first pathway's, 1: the second's)."""
    tables: list[list[tuple[str, Level, str]]] = []
    for line in RED_FLAGS.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0].startswith("---"):
            continue
        if cells[0] in {"red flag", "presentation"}:
            tables.append([])
            continue
        level = Level.from_slug(re.match(r"[a-z]+", cells[1]).group(0))
        tables[-1].append((cells[0], level, cells[2]))
    return tables[table]


# --- The demo pathway -------------------------------------------------------------------


def test_the_demo_pathway_passes_its_checks(published_pathway):
    out = io.StringIO()
    call_command("check_pathway", SLUG, stdout=out)
    assert "4,096 answer combinations checked" in out.getvalue()
    assert "All safety checks pass." in out.getvalue()


def assert_each_row_gives_at_least_its_disposition(
    revision: Revision, rows: list[tuple[str, Level, str]], row_questions: list[list[str]]
) -> None:
    """Each guidance row's questions cite its source and, whatever else is answered, give at least its level.

    Rows needing help the same day or sooner are warning signs (red flags of at least that level);
    the gradual symptoms ("see your doctor") are not called warning signs, but still lead to their level.
    """
    assert len(rows) == len(row_questions)
    pathway = pathway_for(revision)
    questions = {q.key: q for q in revision.triage_questions.all()}
    for (flag, level, source), keys in zip(rows, row_questions, strict=True):
        for key in keys:
            question = questions[key]
            if level >= Level.URGENT:
                assert question.red_flag_level >= level, flag
            else:
                assert question.red_flag_level is None, f"{key} is not a warning sign: {flag}"
            cited = source.split(";")[0].split(",")[0].strip()
            assert unquote(cited) in unquote(question.source), (flag, source, question.source)
            # Every combination of the other answers: this row's answer gives at least its level.
            others = [q.key for q in pathway.questions if q.key != key]
            for combination in itertools.product(["yes", "no"], repeat=len(others)):
                answers = dict(zip(others, combination, strict=True)) | {key: "yes"}
                assert evaluate(pathway, normalise_answers(pathway, answers)).level >= level, (flag, answers)


def test_every_red_flag_in_the_guidance_leads_to_at_least_its_disposition(published_pathway):
    rows = red_flag_rows()
    assert len(rows) == len(RED_FLAG_QUESTIONS) == 9
    assert_each_row_gives_at_least_its_disposition(
        Revision.objects.get(pk=published_pathway.pk), rows, RED_FLAG_QUESTIONS
    )


def test_demo_pathway_is_labelled_as_demonstration(client, db):
    call_command("load_demo", stdout=io.StringIO())
    for url in ("/triage/", URL):
        assert "Demonstration only" in page_text(client.get(url).content.decode()), url


# --- Unsafe pathways cannot be approved, and the reviewer sees why -----------------------------


def import_pathway(document: dict[str, Any], author: Any) -> Revision:
    return services.article_import(document=document, actor=author, fmt=PATHWAY_FORMAT)


def unsafe(kind: str) -> dict[str, Any]:
    document = copy.deepcopy(pathway_document())
    revision = document["revision"]
    if kind == "out-voted red flag":
        revision["rules"][0]["disposition"] = "see-your-doctor"  # possible stroke → only "see your doctor"
    elif kind == "dead rule":
        revision["questions"].append(
            {
                "key": "known-onset",
                "position": 99,
                "kind": "yes_no",
                "text": "Do you know when it started?",
                "options": [{"key": "yes", "position": 1, "label": "Yes"}, {"key": "no", "position": 2, "label": "No"}],
            }
        )
        revision["rules"].append(
            {
                "key": "impossible",
                "position": 99,
                "description": "Both yes and no",
                "match": "all",
                "disposition": "see-your-doctor",
                "conditions": [
                    {"key": "a", "position": 1, "question": "known-onset", "option": "yes"},
                    {"key": "b", "position": 2, "question": "known-onset", "option": "no"},
                ],
            }
        )
    elif kind == "failing vignette":
        revision["vignettes"][8]["minimum_level"] = "urgent"  # gradual tingling only
    return document


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("out-voted red flag", "Red flag stroke (at least emergency) is out-voted"),
        ("dead rule", "Rule impossible can never fire."),
        ("failing vignette", "is under-triaged: soon, needs at least urgent"),
    ],
)
def test_an_unsafe_pathway_cannot_be_approved_and_the_reviewer_sees_why(
    kind, reason, published_article, author, reviewer, client
):
    draft = import_pathway(unsafe(kind), author)
    revision = services.revision_submit(revision=draft, actor=author, change_summary="Unsafe.")
    with pytest.raises(ValidationError, match="Safety check failed") as caught:
        approve(revision, reviewer)
    assert any(reason in message for message in caught.value.messages)
    assert Revision.objects.get(pk=revision.pk).state == RevisionState.IN_REVIEW
    client.force_login(reviewer)
    html = client.get(f"/admin/articles/revision/{revision.pk}/change/").content.decode()
    assert "cannot be approved" in html
    assert reason.replace("“", "&ldquo;") in html or reason in html
    assert "Safety checks (machine-checked over every combination of answers)" in html
    assert "FAIL: " in html


def test_a_pathway_with_a_gap_cannot_be_submitted_or_approved(published_article, author, reviewer):
    document = pathway_document()
    for disposition in document["revision"]["dispositions"]:
        disposition["is_fallback"] = False
    draft = import_pathway(document, author)
    with pytest.raises(ValidationError, match="exactly one fallback disposition"):
        services.revision_submit(revision=draft, actor=author, change_summary="No fallback.")
    # Even if it reached review some other way, approval re-runs the checks.
    Revision.objects.filter(pk=draft.pk).update(state=RevisionState.IN_REVIEW)
    with pytest.raises(ValidationError):
        approve(Revision.objects.get(pk=draft.pk), reviewer)


def test_check_pathway_command_fails_for_an_unsafe_pathway(published_article, author):
    import_pathway(unsafe("dead rule"), author)
    out = io.StringIO()
    with pytest.raises(CommandError, match="cannot be approved"):
        call_command("check_pathway", SLUG, stdout=out)
    assert "FAIL: Rule impossible can never fire." in out.getvalue()


def test_import_reports_broken_references_by_path(published_article, author):
    from articles.interchange.importer import ImportRejected

    document = pathway_document()
    document["revision"]["rules"][0]["conditions"][0]["option"] = "perhaps"
    document["revision"]["questions"][0]["source"] = ""
    with pytest.raises(ImportRejected) as caught:
        import_pathway(document, author)
    assert [str(p) for p in caught.value.problems] == [
        "revision.questions[0].source: a red flag must cite its source",
        "revision.rules[0].conditions[0].option: question 'stroke' has no answer 'perhaps'",
    ]


def test_import_refuses_two_fallbacks_and_an_article_listed_twice_by_path_writing_nothing(
    tmp_path, published_article, author
):
    # Found by helper h3 importing hostile files: both passed validation, then broke a database constraint
    # (one fallback per revision; an article once per disposition), so import_pathway ended in an IntegrityError's
    # traceback instead of the problems named by their path.
    document = pathway_document()
    dispositions = document["revision"]["dispositions"]
    dispositions[1]["articles"] = ["amlodipine-peripheral-neuropathy", "amlodipine-peripheral-neuropathy"]
    dispositions[2]["is_fallback"] = True
    path = tmp_path / "pathway.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    revisions = Revision.objects.count()
    errors = io.StringIO()
    with pytest.raises(CommandError, match="not imported, 2 problems; nothing was changed"):
        call_command("import_pathway", str(path), stderr=errors)
    assert errors.getvalue().splitlines() == [
        "  revision.dispositions[1].articles[1]: 'amlodipine-peripheral-neuropathy' is listed twice "
        "(also at revision.dispositions[1].articles[0])",
        "  revision.dispositions[3].is_fallback: revision.dispositions[2] is the fallback already; "
        "a pathway has exactly one",
    ]
    assert Revision.objects.count() == revisions


# --- Pages ------------------------------------------------------------------------------------


def post(client, revision: Revision, **answers: str) -> Any:
    return client.post(URL, all_no(revision) | answers)


def test_the_form_asks_red_flags_first_and_works_without_javascript(client, published_pathway):
    # One question per page (issue 11): the first page asks the most urgent red flag only.
    html = client.get(URL).content.decode()
    legends = re.findall(r"<legend>(.*?)</legend>", html)
    assert len(legends) == 1
    assert page_text(legends[0]) == "Have you had any of these signs of a stroke, even if they have passed?"
    assert "Question 1 of at most 12" in page_text(html)
    assert "<script" not in html[html.index("<main") :]
    assert 'method="post"' in html


def test_stroke_sign_gives_the_emergency_result(client, published_pathway, settings):
    settings.TRIAGE_EMERGENCY_NUMBER = "112"
    response = post(client, published_pathway, stroke="yes")
    text = page_text(response.content.decode())
    assert response.status_code == 200
    assert "Call the emergency number now" in text
    assert "In an emergency, call 112" in text
    assert "Possible stroke" in text
    assert "Do not stop taking your medicine without talking to your doctor." in text
    assert "This is not a diagnosis." in text
    # Personal: no shared cache keeps it; the browser keeps it only to go back to it (triage.views._personal).
    assert {part.strip() for part in response["Cache-Control"].split(",")} == {"private", "no-cache"}


def test_gradual_tingling_only_gives_see_your_doctor(client, published_pathway):
    text = page_text(post(client, published_pathway, **{"numbness-or-tingling": "yes"}).content.decode())
    assert "See your doctor in the next few days" in text
    assert "Amlodipine and peripheral neuropathy (nerve damage)" in text  # the related article


def test_missing_answers_are_a_400_with_an_error_summary(client, published_pathway):
    # One question per page (issue 11): the error is on the one question shown, not on all eleven others.
    response = client.post(URL, {"stroke": "no", "asked": "spreading-weakness"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert html.count("Answer this question.") == 2  # the summary and the question
    assert 'id="question-spreading-weakness"' in html
    tampered = client.post(URL, all_no(published_pathway) | {"stroke": "definitely"})
    assert tampered.status_code == 400


def test_no_readers_answers_are_stored(client, published_pathway):
    def rows() -> dict[str, int]:
        return {model._meta.label: model.objects.count() for model in apps.get_models()}

    before = rows()
    for answers in ({"stroke": "yes"}, {"numbness-or-tingling": "yes"}, {}, {"diabetic-foot": "yes"}):
        assert post(client, published_pathway, **answers).status_code == 200
    call_command("flush_outcome_counts", stdout=io.StringIO())  # counted in the cache, folded in every minute
    after = rows()
    changed = {label for label in before if before[label] != after[label]}
    assert changed == {"triage.OutcomeCount"}
    counts = {(c.disposition_key, c.count) for c in OutcomeCount.objects.all()}
    assert counts == {
        ("call-emergency-number", 1),
        ("see-your-doctor", 1),
        ("talk-to-your-doctor-if-worried", 1),
        ("get-help-today", 1),
    }
    assert {field.name for field in OutcomeCount._meta.fields} == {"id", "revision", "disposition_key", "day", "count"}
    assert "sessionid" not in client.cookies


def test_a_withdrawn_pathway_answers_410(client, published_pathway, publisher):
    services.revision_withdraw(revision=published_pathway, actor=publisher, reason="Under review.")
    assert client.get(URL).status_code == 410
    assert client.post(URL, {}).status_code == 410
    assert SLUG not in client.get("/triage/").content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("slug", ["no-such-check", "amlodipine-peripheral-neuropathy"])
def test_a_check_not_found_gives_the_numbers_to_call_and_the_checks(client, published_pathway, slug, method):
    """A reader sent to a symptom check that is not there (a mistyped or old link, a check never published, an
    article's address) is given the numbers to call and the way to the checks, as on a withdrawn one; found from
    outside: the site's 404 said only "call your local emergency number", and led to the articles."""
    response = getattr(client, method)(f"/triage/{slug}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'href="tel:999"' in html and 'href="tel:111"' in html
    assert 'href="/triage/"' in html


def test_pathways_are_not_articles(client, api, published_pathway):
    assert client.get(f"/articles/{SLUG}/").status_code == 404
    for url in ("/", "/sitemap.xml", "/search/?q=tingling"):
        assert f"/articles/{SLUG}/" not in client.get(url).content.decode()
    assert SLUG not in api.get("/api/v1/articles/").content.decode()
    assert SLUG not in api.get("/api/v1/changes/").content.decode()
    assert api.get(f"/api/v1/articles/{SLUG}/").status_code == 404


def test_triage_page_query_budgets(client, published_pathway, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        client.get("/triage/")
    with django_assert_max_num_queries(12):
        client.get(URL)
    with django_assert_max_num_queries(16):
        post(client, published_pathway, stroke="yes")


# --- The API answers as the pages do ----------------------------------------------------------


def result_key_from_page(client, revision: Revision, answers: dict[str, str]) -> str:
    html = client.post(URL, answers).content.decode()
    title = re.search(r'<h1 id="result-title">(.*?)</h1>', html).group(1)
    return next(d.key for d in revision.triage_dispositions.all() if d.title == title)


def test_the_evaluate_endpoint_answers_the_same_dispositions_as_the_pages(client, api_key, published_pathway):
    api = PartnerClient(client, api_key)
    revision = Revision.objects.get(pk=published_pathway.pk)
    keys = [q.key for q in revision.triage_questions.all()]
    rng = random.Random(20261126)
    cases = [
        dict(zip(keys, combination, strict=True))
        for combination in rng.sample(list(itertools.product(["yes", "no"], repeat=len(keys))), 40)
    ]
    cases += [all_no(revision) | {key: "yes"} for key in keys] + [all_no(revision)]
    url = f"/api/v1/pathways/{SLUG}/evaluate/"
    for answers in cases:
        response = client.post(
            url, {"answers": answers}, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {api_key}"
        )
        assert response.status_code == 200
        data = response.json()
        assert data["revision"] == revision.number
        assert data["disposition"]["key"] == result_key_from_page(client, revision, answers), answers
    assert api.json(f"/api/v1/pathways/{SLUG}/")["questions"][0]["key"] == "stroke"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", None),  # a parse error: no field to name
        ([1, 2], "answers"),
        ({}, "answers"),
        ({"answers": "yes"}, "answers"),
        ({"answers": {"stroke": "maybe"}}, "answers"),
        ({"answers": {}, "extra": 1}, "extra"),
        # The only text an API body carries is keys, matched exactly: nothing to normalise, nothing stored.
        ({"answers": {"stroke\u0000": "yes\u202e"}}, "answers"),
        ({"answers": {"stroke": "yes\u0000"}}, "answers"),
    ],
)
def test_a_malformed_evaluation_body_answers_400_naming_the_problem(client, api_key, published_pathway, body, field):
    response = client.post(
        f"/api/v1/pathways/{SLUG}/evaluate/",
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {api_key}",
    )
    assert response.status_code == 400
    if field is None:
        assert problem(response)["code"] == "parse_error"
    else:
        assert field in problem_fields(response)
    call_command("flush_outcome_counts", stdout=io.StringIO())
    assert not OutcomeCount.objects.exists()


def test_pathway_api_needs_a_key(client, published_pathway):
    assert client.get("/api/v1/pathways/").status_code == 401
    assert client.post(f"/api/v1/pathways/{SLUG}/evaluate/", {}, content_type="application/json").status_code == 401


# --- Interchange ----------------------------------------------------------------------------------


def test_the_demo_pathway_file_is_an_export_of_itself(published_article, author, tmp_path):
    from tests.conftest import PATHWAY_FILE

    call_command("import_pathway", str(PATHWAY_FILE), "--author", author.username, stdout=io.StringIO())
    out = tmp_path / "pathway.json"
    call_command("export_pathway", SLUG, "-o", str(out))
    assert out.read_bytes() == PATHWAY_FILE.read_bytes()


def test_the_published_pathway_schema_file_matches_the_code(settings):
    from triage.interchange import SCHEMA

    path = settings.BASE_DIR / "docs" / "pathway-format-v1.schema.json"
    assert json.loads(path.read_text(encoding="utf-8")) == SCHEMA, "regenerate with: manage.py pathway_schema"


def test_a_new_pathway_draft_copies_its_logic_and_the_diff_shows_changes(published_pathway, author, reviewer, client):
    draft = services.revision_create_draft(article=published_pathway.article, actor=author, based_on=published_pathway)
    assert pathway_for(draft) == pathway_for(Revision.objects.get(pk=published_pathway.pk))
    # Change one rule's outcome through a re-import of an edited file, as authors do (in place of the copy:
    # one open draft per article).
    services.revision_archive(revision=draft, actor=author)
    document = pathway_document()
    document["revision"]["questions"][0]["text"] = "Sudden weakness on one side?"
    newer = import_pathway(document, author)
    client.force_login(reviewer)
    html = client.get(f"/admin/articles/revision/{newer.pk}/diff/?against={published_pathway.pk}").content.decode()
    assert "Triage questions" in html
    assert "<ins>Sudden weakness on one side?</ins>" in html or "Sudden weakness on one side?" in html


def test_the_sitemap_lists_live_pathways(client, published_pathway, publisher):
    # /sitemap.xml is an index: the addresses are in the pages it lists.
    sitemap = sitemap_locations(client)
    assert f"https://medsafety.example/triage/{SLUG}/" in sitemap
    assert "https://medsafety.example/triage/" in sitemap
    services.revision_withdraw(revision=published_pathway, actor=publisher, reason="Under review.")
    assert f"https://medsafety.example/triage/{SLUG}/" not in sitemap_locations(client)


def test_each_export_command_exports_only_its_own_kind(published_pathway):
    with pytest.raises(CommandError, match=f"No article with the slug '{SLUG}'"):
        call_command("export_article", SLUG, stdout=io.StringIO())
    with pytest.raises(CommandError, match="No pathway with the slug 'amlodipine-peripheral-neuropathy'"):
        call_command("export_pathway", "amlodipine-peripheral-neuropathy", stdout=io.StringIO())


def test_pathway_lists_cost_the_same_queries_for_one_and_several_pathways(
    client,
    api_key,
    published_pathway,
    author,
    reviewer,
    publisher,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import take_live

    api = PartnerClient(client, api_key)
    api.get("/api/v1/pathways/")  # the key's last-used time is written once a minute; not part of the budget

    def count(call: Any) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert call().status_code == 200
        return len(queries)

    few = (count(lambda: client.get("/triage/")), count(lambda: api.get("/api/v1/pathways/")))
    for n in range(3):
        document = pathway_document()
        document["article"]["slug"] = f"pathway-copy-{n}"
        take_live(import_pathway(document, author), author, reviewer, publisher)
    with django_assert_num_queries(few[0]):
        client.get("/triage/")
    # Each publication moved the site's clock: compare with the site pointer as warm as it was above.
    api.get("/api/v1/pathways/?limit=1")
    with django_assert_num_queries(few[1]):
        api.get("/api/v1/pathways/")
    with django_assert_max_num_queries(12):
        api.get(f"/api/v1/pathways/{SLUG}/")
    # The day's first outcome for a disposition inserts its count row (a savepoint, an insert); later ones update.
    with django_assert_max_num_queries(15):
        client.post(
            f"/api/v1/pathways/{SLUG}/evaluate/",
            {"answers": all_no(published_pathway)},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {api_key}",
        )


def test_the_disclaimer_and_safety_advice_are_worded_once_for_pages_and_api(client, api, published_pathway):
    from triage import notices

    text = page_text(post(client, published_pathway, stroke="yes").content.decode())
    assert notices.DISCLAIMER in text
    assert notices.SAFETY_ADVICE in text
    response = api.client.post(
        f"/api/v1/pathways/{SLUG}/evaluate/",
        {"answers": all_no(published_pathway) | {"stroke": "yes"}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {api.key}",
    )
    body = response.json()
    assert (body["disclaimer"], body["safety_advice"]) == (notices.DISCLAIMER, notices.SAFETY_ADVICE)


def test_the_demonstration_notice_is_worded_once(client, db):
    from triage import notices

    call_command("load_demo", stdout=io.StringIO())
    # Once for each demonstration pathway: once on its own page, and once beside each on the list.
    demo_pathways = Revision.objects.of_kind(PATHWAY).count()
    assert demo_pathways == 2
    assert page_text(client.get("/triage/").content.decode()).count(notices.DEMONSTRATION) == demo_pathways
    assert page_text(client.get(URL).content.decode()).count(notices.DEMONSTRATION) == 1
    revision = Revision.objects.get(article__slug=SLUG)
    text = page_text(client.post(URL, all_no(revision) | {"stroke": "yes"}).content.decode())
    # An emergency result words it so that it cannot read as a reason to wait (found by reading it as a patient).
    assert text.count(notices.DEMONSTRATION_EMERGENCY) == 1
    assert "Do not rely on it" not in text
    assert "not an emergency" not in text  # nor offers the urgent line as an alternative to calling now
    milder = page_text(client.post(URL, all_no(revision)).content.decode())
    assert milder.count(notices.DEMONSTRATION) == 1


def test_only_urgent_and_emergency_results_lead_with_the_emergency_number(client, published_pathway, settings):
    settings.TRIAGE_EMERGENCY_NUMBER = "112"
    assert [level for level in Level if level.is_urgent] == [Level.URGENT, Level.EMERGENCY]
    emergency = page_text(post(client, published_pathway, stroke="yes").content.decode())
    urgent = page_text(post(client, published_pathway, **{"yellow-skin-or-eyes": "yes"}).content.decode())
    routine = page_text(post(client, published_pathway, **{"numbness-or-tingling": "yes"}).content.decode())
    # The emergency result says it once, as the thing to do ("Call 112 now."), not twice over.
    assert "Call 112 now." in emergency.split("What to do now")[0]
    assert "In an emergency, call 112" in urgent.split("What to do now")[0]
    assert "112" not in routine.split("What to do now")[0]


def test_the_medicine_advice_says_what_the_guidance_says_and_no_more(client, published_pathway):
    """Found by reading the results as a patient: every result headed the guidance's "Do not stop taking your
    medicine without talking to your doctor" with "Keep taking your medicine", an instruction the guidance does
    not give, even to a reader with the signs of a serious allergic reaction to amlodipine, whose doctor may
    well stop it."""
    from triage import notices

    for answers in ({"allergic-reaction": "yes"}, {"numbness-or-tingling": "yes"}, {}):
        html = post(client, published_pathway, **answers).content.decode()
        text = page_text(html)
        assert notices.SAFETY_ADVICE in text
        assert "Keep taking" not in text
        heading = re.search(r'<h2 class="callout__title" id="medicine-heading">(.*?)</h2>', html).group(1)
        assert heading == "Your medicine"


@pytest.mark.parametrize("published", [1, 30])
def test_query_budget_of_a_check_not_found(client, workflow, published, django_assert_num_queries):
    """The page for a symptom check that is not there costs the same however many checks are published."""
    for n in range(published):
        workflow.live(slug=f"budget-check-{n}")
    with django_assert_num_queries(QUERIES_OF_A_CHECK_NOT_FOUND):
        assert client.get("/triage/no-such-check/").status_code == 404
