"""Reader search (``articles.search``): a full-text index kept by the services, the same answers on both databases.

Run on SQLite (FTS5) and on PostgreSQL (``tsvector`` + GIN).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import search, services
from articles.models import ArticleKind, Medication, Revision, SearchEntry, Symptom
from tests.api.bulk import live_articles
from tests.factories import article_document

pytestmark = pytest.mark.django_db

DEMO_URL = "/articles/amlodipine-peripheral-neuropathy/"


def found(client: Any, query: str, page: int = 1) -> list[str]:
    """The article addresses a search lists, in order."""
    response = client.get("/search/", {"q": query, "page": page})
    assert response.status_code == 200, query
    results = re.search(r'<ul class="article-list">(.*?)</ul>', response.content.decode(), flags=re.S)
    return re.findall(r'<a href="(/articles/[^"]+/)">', results.group(1)) if results else []


def retitle(workflow: Any, live: Revision, title: str) -> Revision:
    return workflow.edited_draft(live, title=title)


# --- What it finds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "amlodipine",  # the medication, the title
        "Amlodipine",
        "tingling",  # the sections' text
        "numbness",  # a symptom's name
        "pins and needles",  # a symptom's name, "and" a stop word
        '"pins and needles"',
        "paresthesia",  # what the article says of a symptom (an entry's text)
        "amlodipine tingling feet",  # multi-word, over several fields
        "peripheral neuropathy",
        '"peripheral neuropathy"',
        "amlodipine neuropathy",  # words from different fields, all required
        "Norvasc",  # a brand name
        "calcium channel blockers",  # stemmed
        "nerve damage, amlodipine?",  # punctuation
        "tingling or zebrafish",
        "the neuropathy",  # stop words are ignored
        "amlodopine",  # misspelt: the results for the close word, saying so
        "amlodopine neuropaty",
    ],
)
def test_the_demo_article_is_found(client, published_article, query):
    assert found(client, query) == [DEMO_URL]


@pytest.mark.parametrize(
    "query",
    [
        "zebrafish",
        "amlodipine zebrafish",  # every word must match
        "neuropathy -amlodipine",  # excluded
        '"damage nerve"',  # a phrase is in order
        "-amlodipine",  # nothing but an exclusion finds nothing
        "the and of",  # nothing but stop words
        "αμλοδιπίνη",  # Greek
        "氨氯地平",  # Chinese
    ],
)
def test_what_the_demo_article_does_not_match(client, published_article, query):
    assert found(client, query) == []


def test_results_show_title_medication_and_summary_best_first(client, published_article, publish_document, reviewer):
    document = article_document(slug="mentions-it-once", medication="otheramol")
    document["revision"]["sections"][0]["body"] += " Unlike amlodipine."
    publish_document(document)
    # Articles that do not mention it, as in any real corpus (bm25 weighs a word by how rare it is).
    live_articles(5, medication=Medication.objects.get(slug="otheramol"), reviewer=reviewer)
    assert found(client, "amlodipine") == [DEMO_URL, "/articles/mentions-it-once/"]
    html = client.get("/search/", {"q": "Norvasc"}).content.decode()
    assert "Amlodipine and peripheral neuropathy (nerve damage)" in html
    assert '<p class="medication">Amlodipine</p>' in html
    assert "it is a very rare side effect" in html
    assert "1 result for" in html


# Found from outside (stop 27's hostile-input probe): the stored text is NFC (``articles.text``), the reader's query
# was not normalised, so a word typed with a combining accent (as some keyboards and copied text give it) found
# nothing, and the page offered a "Showing results for" guess instead.
@pytest.mark.parametrize("query", ["M\u00e9ni\u00e8re", "Me\u0301nie\u0300re", "ME\u0301NIE\u0300RE"])
def test_a_word_typed_in_any_unicode_form_finds_the_same_articles(client, published_article, publish_document, query):
    document = article_document(slug="mentions-meniere", medication="otheramol")
    document["revision"]["sections"][0]["body"] += " Not to be confused with M\u00e9ni\u00e8re's disease."
    publish_document(document)
    assert found(client, query) == ["/articles/mentions-meniere/"]
    html = client.get("/search/", {"q": query}).content.decode()
    assert "Showing results for" not in html


def test_pathways_and_drafts_are_not_searched(client, published_pathway):
    services.article_import(document=article_document(slug="draft-only", marker="zebrafish"), actor=None)
    assert found(client, "zebrafish") == []
    assert found(client, "tingling") == [DEMO_URL]  # the pathway says it too
    assert SearchEntry.objects.filter(kind="triage_pathway").exists()


# --- Kept by the services -----------------------------------------------------------------


def test_publish_replace_and_withdraw_show_at_once(client, workflow, publisher):
    first = workflow.live(slug="searched", medication="searchamol")
    assert found(client, "searchamol") == ["/articles/searched/"]
    second = workflow.take_live(retitle(workflow, first, "Zebrafish words"))
    assert found(client, "zebrafish") == ["/articles/searched/"]
    assert found(client, "heading") == ["/articles/searched/"]  # one entry per article, not two
    assert SearchEntry.objects.filter(article_id=first.article_id).count() == 1
    services.revision_withdraw(revision=second, actor=publisher, reason="Under review.")
    assert found(client, "zebrafish") == [] and found(client, "searchamol") == []
    assert not SearchEntry.objects.filter(article_id=first.article_id).exists()


def test_a_scheduled_publication_is_found_from_its_time_without_a_write(client, workflow, clock, publisher):
    first = workflow.live(slug="searched")
    soon = datetime.timedelta(hours=1)
    scheduled = workflow.take_live(retitle(workflow, first, "Zebrafish words"), publish_at=timezone.now() + soon)
    assert found(client, "zebrafish") == []
    assert found(client, "heading") == ["/articles/searched/"]
    clock.advance(soon + datetime.timedelta(seconds=1))
    assert found(client, "zebrafish") == ["/articles/searched/"]
    assert found(client, "heading") == ["/articles/searched/"]  # the replaced revision is hidden
    assert Revision.objects.get(pk=scheduled.pk).state == "scheduled"  # nothing recorded it


def test_an_unscheduled_publication_is_not_found(client, workflow, clock, publisher):
    first = workflow.live(slug="searched")
    soon = datetime.timedelta(hours=1)
    scheduled = workflow.take_live(retitle(workflow, first, "Zebrafish words"), publish_at=timezone.now() + soon)
    services.revision_unschedule(revision=scheduled, actor=publisher)
    clock.advance(soon * 2)
    assert found(client, "zebrafish") == []
    assert found(client, "heading") == ["/articles/searched/"]


def test_vocabulary_changes_show_at_once(client, published_article, reviewer):
    medication = Medication.objects.get(slug="amlodipine")
    services.medication_update(
        medication=medication, actor=reviewer, changes={"brand_names": ["Istin"]}, reason="Brand renamed."
    )
    assert found(client, "Istin") == [DEMO_URL]
    assert found(client, "Norvasc") == []
    symptom = Symptom.objects.filter(entries__revision=published_article).first()
    services.symptom_update(symptom=symptom, actor=reviewer, changes={"name": "Formication"}, reason="Term.")
    assert found(client, "formication") == [DEMO_URL]


def test_rebuilding_the_index_is_idempotent_and_repairs_it(client, published_article):
    before = list(SearchEntry.objects.values_list("revision_id", "names", "about", "symptoms", "body"))
    SearchEntry.objects.all().delete()
    assert found(client, "amlodipine") == []
    call_command("rebuild_search_index", stdout=None)
    call_command("rebuild_search_index", stdout=None)
    assert list(SearchEntry.objects.values_list("revision_id", "names", "about", "symptoms", "body")) == before
    assert found(client, "amlodipine") == [DEMO_URL]


# --- Any input ----------------------------------------------------------------------------

HOSTILE = [
    '"',
    '""',
    '"amlodipine',
    "amlodipine*",
    "*",
    "-",
    "--amlodipine",
    "NEAR(amlodipine neuropathy)",
    "amlodipine NEAR neuropathy",
    "names:amlodipine",
    "title:",
    "(amlodipine",
    "amlodipine)",
    "AND",
    "OR",
    "NOT amlodipine",
    "amlodipine AND",
    "a\x00b",
    "\x00",
    "'; DROP TABLE articles_article; --",
    "%_%",
    "\\",
    "amlodipine & !neuropathy | <->",
    "^amlodipine",
    "{names}:amlodipine",
    "🙂",
    "x" * 200,
    "amlodipine " * 18,
    "\u202eamlodipine",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_any_input_is_answered_without_an_error(client, published_article, query):
    assert client.get("/search/", {"q": query}).status_code == 200


def test_over_200_characters_is_a_400(client):
    response = client.get("/search/", {"q": "x" * 201})
    assert response.status_code == 400 and "at most 200 characters" in response.content.decode()


def test_a_search_too_long_leaves_a_box_that_can_be_sent_again(client):
    """Found from outside: the box was filled again with every character of the query (439), past its own
    maxlength of 200, so on a phone pressing Search sent the same 400 again, and editing was blocked until 239
    characters were deleted; the title, unlike every other error page's, did not say "Error"."""
    html = client.get("/search/", {"q": "neuropathy " * 40}).content.decode()
    box = re.search(r'<input id="site-search-q"[^>]*value="([^"]*)"', html).group(1)
    assert len(box) <= 200 and box.startswith("neuropathy neuropathy")
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title.startswith("Error:") and len(title) < 300


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\u202e", "\u200b", "\u2028"])
def test_characters_text_may_not_hold_are_spaces_in_a_search(client, published_article, character):
    """Found from outside: a NUL or other control character in the query was echoed raw into the title and the
    search box (an HTML parse error); the site's own text refuses them, and the reader's words are text too."""
    response = client.get("/search/", {"q": f"amlodipine{character}neuropathy"})
    html = response.content.decode()
    assert response.status_code == 200
    assert character not in html
    assert 'value="amlodipine neuropathy"' in html


@pytest.mark.parametrize("query", HOSTILE)
def test_the_reader_s_text_never_reaches_fts5_as_syntax(query):
    expression = search.fts5_query(search.parse_query(query))
    # Only quoted runs of letters and digits, joined by the operators we write.
    assert re.fullmatch(r'(\(|\)|"[^\W_]+(?: [^\W_]+)*"| AND | OR | NOT )*', expression), expression


def test_syntax_in_queries_is_read_as_words(client, published_article):
    assert found(client, "NEAR(amlodipine neuropathy)") == []  # "near" is a word here, not an operator
    assert found(client, "names:amlodipine") == []  # a phrase "names amlodipine", not a column filter
    assert found(client, "amlodipine*") == [DEMO_URL]
    assert found(client, "(amlodipine)") == [DEMO_URL]


# --- Bounded cost -------------------------------------------------------------------------


def test_query_count_is_the_same_at_any_size(client, published_article, reviewer, django_assert_num_queries):
    medication = Medication.objects.get(slug="amlodipine")
    with CaptureQueriesContext(connection) as small:
        client.get("/search/", {"q": "amlodipine"})
    live_articles(150, medication=medication, reviewer=reviewer)
    with django_assert_num_queries(len(small)):
        response = client.get("/search/", {"q": "amlodipine"})
    assert "More than 100 results" in response.content.decode()
    assert len(small) <= 4


def test_pages_go_as_far_as_the_ranked_results(client, published_article, reviewer):
    live_articles(150, medication=Medication.objects.get(slug="amlodipine"), reviewer=reviewer)
    last = client.get("/search/", {"q": "amlodipine", "page": 5}).content.decode()
    assert "Page 5 of 5" in last and "Next" not in last
    pages = [found(client, "amlodipine", page) for page in range(1, 6)]
    assert len({address for page in pages for address in page}) == 100
    assert client.get("/search/", {"q": "amlodipine", "page": "x"}).status_code == 200


def test_reads_never_write_the_index(client, published_article):
    with CaptureQueriesContext(connection) as captured:
        client.get("/search/", {"q": "amlodipine"})
    assert not [query for query in captured if re.match(r"\s*(INSERT|UPDATE|DELETE)", query["sql"], re.I)]


@pytest.mark.postgresql
def test_postgresql_searches_through_the_gin_index(published_article):
    entries = SearchEntry.objects.filter(kind=ArticleKind.ARTICLE)
    query = search.SearchQuery("amlodipine", config="english", search_type="websearch")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = entries.filter(document=query).explain()
    assert "searchentry_document_gin" in plan


@pytest.mark.django_db(transaction=True)
def test_the_backfill_migration_indexes_what_is_live_already(client):
    from tests.articles.test_migrations import migrate

    apps = migrate(("articles", "0051_backfill_public_clock"))
    try:
        Medication = apps.get_model("articles", "Medication")
        Article = apps.get_model("articles", "Article")
        Revision = apps.get_model("articles", "Revision")
        Section = apps.get_model("articles", "Section")
        medication = Medication.objects.create(slug="oldamol", generic_name="Oldamol", brand_names=["Oldbrand"])
        for slug, state in (("old-live", "published"), ("old-draft", "draft")):
            article = Article.objects.create(slug=slug, medication=medication)
            revision = Revision.objects.create(
                article=article,
                number=1,
                state=state,
                title="Old words",
                topic="T",
                summary="S.",
                published_at=timezone.now() if state == "published" else None,
            )
            Section.objects.create(revision=revision, key="s", position=1, heading="H", body="Zebrafish.")
        migrate()
        assert found(client, "zebrafish") == found(client, "oldbrand") == ["/articles/old-live/"]
    finally:
        migrate()


def test_a_query_matching_more_than_the_window_ranks_the_newest_window(
    client, published_article, reviewer, monkeypatch
):
    """Ranking is bounded (``search.RANK_WINDOW``): of more matches than that, the most recently indexed ones are
    ranked, so a word in every article costs what a rarer one costs however big the library grows."""
    live_articles(5, medication=Medication.objects.get(slug="amlodipine"), reviewer=reviewer)
    assert published_article.pk in search.search("amlodipine", kind=ArticleKind.ARTICLE)  # within the window
    monkeypatch.setattr(search, "RANK_WINDOW", 3)
    with CaptureQueriesContext(connection) as captured:
        ranked = search.search("amlodipine", kind=ArticleKind.ARTICLE)
    assert len(captured) == 1
    newest = SearchEntry.objects.filter(kind=ArticleKind.ARTICLE).order_by("-pk").values_list("revision_id", flat=True)
    assert sorted(ranked) == sorted(newest[:3])
    assert published_article.pk not in ranked
