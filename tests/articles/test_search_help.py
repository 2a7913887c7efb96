"""Search helps the reader: results for a close word ("Showing results for …"), snippets with the
reader's words marked, and where else to look.

Run on SQLite (FTS5 trigram table) and on PostgreSQL (``pg_trgm``): the same answers.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.db import connection
from django.db.models import F, Value
from django.test.utils import CaptureQueriesContext
from hypothesis import example, given, settings
from hypothesis import strategies as st

from articles import search, services
from articles.models import Medication, SearchTerm
from tests.api.bulk import live_articles
from tests.articles.test_search import DEMO_URL, found
from tests.factories import article_document

pytestmark = pytest.mark.django_db


def page(client: Any, query: str) -> str:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200, query
    return response.content.decode()


def suggestion(client: Any, query: str) -> str | None:
    match = re.search(r'Showing results for <a href="([^"]+)">([^<]*)</a>\.', page(client, query))
    return html.unescape(match.group(2)) if match else None


# --- Showing results for a close word -------------------------------------------------------------------------


def test_a_misspelt_medicine_finds_the_right_one_and_says_so(client, published_article):
    text = page(client, "amlodopine")
    assert "No results for “amlodopine”" in text
    link = re.search(r'Showing results for <a href="([^"]+)">amlodipine</a>\.', text)
    assert link, text
    assert found(client, "amlodopine") == found(client, "amlodipine") == [DEMO_URL]
    assert "<mark>amlodipine</mark>" in text.lower()  # the snippet marks the word it searched for
    response = client.get(html.unescape(link.group(1)))
    assert response.status_code == 200
    assert DEMO_URL in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("amlodopine", "amlodipine"),
        ("Amlodapine", "amlodipine"),
        ("norvask", "norvasc"),  # a brand name
        ("amlodopine neuropaty", "amlodipine neuropathy"),  # each unknown word
        ("amlodopine tingling", "amlodipine tingling"),  # a word of the body text stays as it is
        ("peripherel", "peripheral"),  # a word of the title
        ("parasthesia", "paresthesia"),  # a symptom's name
        ("zebrafish", None),  # nothing close
        ("amlodipine zebrafish", None),  # the known word stays, the other has nothing close
        ("-amlodopine", None),  # nothing asked for
        ("αμλοδιπίνη", None),
        ("амлодипин", None),
        ("氨氯地平", None),
    ],
)
def test_suggestions(client, published_article, query, expected):
    assert suggestion(client, query) == expected


def test_no_suggestion_when_something_is_found(client, published_article):
    assert suggestion(client, "amlodipine") is None


def test_only_live_content_is_suggested(client, workflow, publisher):
    draft = workflow.draft(article_document(slug="draft-only", medication="zanzibarol"))
    assert SearchTerm.objects.filter(word="zanzibarol").count() == 0  # drafts add no words
    assert suggestion(client, "zanzibarl") is None
    live = workflow.take_live(draft)
    assert suggestion(client, "zanzibarl") == "zanzibarol"
    services.revision_withdraw(revision=live, actor=publisher, reason="Under review.")
    assert suggestion(client, "zanzibarl") is None  # the word stays in the vocabulary; it finds nothing live


def test_the_vocabulary_holds_names_not_body_text(published_article):
    words = set(SearchTerm.objects.values_list("word", flat=True))
    assert {"amlodipine", "norvasc", "peripheral", "neuropathy", "numbness", "pins", "needles"} <= words
    assert "tingling" not in words  # body text: found by search, not suggested
    assert "and" not in words and "the" not in words


@given(st.text(max_size=30))
@example("A0\u00bc")  # "¼" ends a word for pg_trgm, as a space does (found by this test on PostgreSQL)
@example("x\u00b2yz \u2460\u2461\u2462")
@settings(max_examples=40, deadline=None)
def test_trigram_similarity_is_pg_trgm_s(text):
    # Compared with PostgreSQL itself on PostgreSQL; on SQLite, its own properties.
    words = search.term_words(text)
    for word in words:
        assert search.trigram_similarity(word, word) == 1.0
        assert 0 <= search.trigram_similarity(word, "amlodipine") <= 1
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT similarity(%s, %s)", [word, "amlodipine"])
                assert search.trigram_similarity(word, "amlodipine") == pytest.approx(cursor.fetchone()[0], abs=1e-6)


def test_other_numbers_end_a_word_as_pg_trgm_reads_them():
    """pg_trgm (show_trgm('a0¼') is {"  a"," a0","a0 "}) splits words at fractions and superscripts (category No)."""
    assert search.trigram_words("a0\u00bcb x\u00b2y") == ["a0", "b", "x", "y"]
    assert search._trigrams("A0\u00bc") == {"  a", " a0", "a0 "}
    assert search.term_words("\u00bc\u00bd\u00be amlodipine\u00b2") == ["amlodipine"]


@pytest.mark.postgresql
def test_postgresql_finds_candidates_through_the_trigram_index(published_article):
    plan = SearchTerm.objects.filter(search.TrigramSimilar(F("word"), Value("amlodopine")))
    with connection.cursor() as cursor:
        # Nor the unique index walked whole: on a tiny table the planner would rather.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        explained = plan.explain()
    assert "searchterm_word_trgm" in explained


# --- Snippets -----------------------------------------------------------------------------


def snippets(text: str) -> list[str]:
    return re.findall(r'<p class="snippet">(.*?)</p>', text, flags=re.S)


def test_results_mark_the_reader_s_words(client, published_article):
    (shown,) = snippets(page(client, "tingling"))
    assert "<mark>tingling</mark>" in shown.lower()
    (shown,) = snippets(page(client, "pins and needles"))
    assert "<mark>pins</mark>" in shown and "<mark>needles</mark>" in shown and "<mark>and</mark>" not in shown


def test_a_result_matched_by_name_only_shows_its_summary(client, published_article):
    (shown,) = snippets(page(client, "Norvasc"))
    assert "it is a very rare side effect" in shown and "<mark>" not in shown


HOSTILE_TEXT = "<script>alert(1)</script> \"quoted\" 'single' & <b>bold</b> zebrafish"


def test_content_and_query_cannot_inject_markup(client, publish_document):
    document = article_document(slug="hostile", medication="hostilamol")
    document["revision"]["sections"][0]["body"] = "Cited [@ref-1]. " + HOSTILE_TEXT
    publish_document(document)
    # (PostgreSQL's parser drops what looks like a tag from the document, so no query asks for "script" alone.)
    queries = (
        "zebrafish",
        "zebrafish bold",
        "'single' zebrafish",
        '"quoted" zebrafish',
        'zebrafish or "<script>x</script>"',
    )
    for query in queries:
        text = page(client, query)
        (shown,) = snippets(text)
        assert "<script" not in text.split("<main", 1)[1].lower().replace("&lt;script", "")
        assert re.sub(r"</?mark>", "", shown).count("<") == 0, shown
        assert "<mark>zebrafish</mark>" in shown
        assert "&lt;b&gt;bold&lt;/b&gt;" in shown or "bold" in shown  # shown as text, never as markup
        assert "&quot;quoted&quot;" in shown or "quoted" in shown


def test_a_hostile_query_is_escaped(client, published_article):
    text = page(client, '"><img src=x onerror=alert(1)>')
    assert "<img" not in text and "&lt;img" in text


def test_snippets_are_the_same_function_on_both_databases():
    texts = ("A summary.", "Numbness or pins and needles.", "Some [link](https://example.org) and **tingling** [@ref].")
    shown = search.snippet(texts, "tingling needles")
    assert str(shown) == "Numbness or pins and <mark>needles</mark>"
    shown = search.snippet(texts, "tingling")
    assert str(shown) == "Some link and <mark>tingling</mark>"


# --- Nothing found ------------------------------------------------------------------------


def test_nothing_found_suggests_symptom_pages_the_checks_and_the_a_to_z(client, published_article):
    text = page(client, "zebrafish")
    assert "0 results for" in text
    assert 'href="/triage/"' in text
    assert 'href="/#medicines-heading"' in text
    symptom = published_article.symptom_entries.first().symptom
    assert f'href="/symptoms/{symptom.slug}/"' in text
    assert client.get(f"/symptoms/{symptom.slug}/").status_code == 200


def test_the_symptoms_offered_are_kept_until_anything_public_changes(client, published_article, publisher):
    """Every search that finds nothing offers the same symptom pages: asked once per public change (kept under the
    site's identity), not per search; a withdrawal takes its symptoms off at once."""
    symptom = published_article.symptom_entries.first().symptom
    assert f'href="/symptoms/{symptom.slug}/"' in page(client, "zebrafish")
    with CaptureQueriesContext(connection) as captured:
        assert f'href="/symptoms/{symptom.slug}/"' in page(client, "zebrafish")
    assert not [query for query in captured if "articles_symptom" in query["sql"]]
    services.revision_withdraw(revision=published_article, actor=publisher, reason="Under review.")
    assert f'href="/symptoms/{symptom.slug}/"' not in page(client, "zebrafish")


def test_empty_and_long_queries(client, published_article):
    assert "Type a medicine" in page(client, "")
    assert "Type a medicine" in page(client, "   ")
    response = client.get("/search/", {"q": "a" * (search.MAX_TERM_CHARS + 200)})
    assert response.status_code == 400 and "at most 200 characters" in response.content.decode()
    assert page(client, "x" * 200)  # the maximum is answered


@pytest.mark.parametrize(
    "query",
    ["neuropathy, amlodipine!", "amlodipine; neuropathy", "(amlodipine) [neuropathy]", "amlodipine's", "tingling…"],
)
def test_punctuation(client, published_article, query):
    assert found(client, query) == [DEMO_URL]


# --- Bounded cost -------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["amlodipine", "amlodopine", "zebrafish"])
def test_query_count_is_the_same_at_any_size(client, published_article, reviewer, query, django_assert_num_queries):
    with CaptureQueriesContext(connection) as small:
        client.get("/search/", {"q": query})
    live_articles(120, medication=Medication.objects.get(slug="amlodipine"), reviewer=reviewer)
    with django_assert_num_queries(len(small)):
        client.get("/search/", {"q": query})
    assert len(small) <= 8


def ranking_queries(captured: CaptureQueriesContext) -> list[str]:
    """The full-text searches among ``captured``: each ranks the newest matches (``search.RANK_WINDOW``)."""
    rank = "ts_rank_cd" if connection.vendor == "postgresql" else "bm25("
    return [query["sql"] for query in captured if rank in query["sql"]]


def test_a_misspelt_query_searches_for_its_suggestion_once(client, published_article):
    """The search that checks a suggestion finds something is the one whose results the page shows: at 100,000
    articles each ranks the newest 500 matches, so running it twice cost a second search."""
    with CaptureQueriesContext(connection) as captured:
        assert suggestion(client, "amlodopine") == "amlodipine"
    assert len(ranking_queries(captured)) == 2  # the reader's words (nothing), then the suggestion's
