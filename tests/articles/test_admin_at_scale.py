"""The admin a clinician works in costs the same at 30 articles as at 100,000: nothing grows with the library.

Found by loading the bench's library (``bench/fixtures.py``) at 100 and at 100,000 articles on
PostgreSQL and timing every admin page a clinician uses, with the queries each ran and their
plans. Each test here is one page that grew: its query count, the rows it lists, or (on
PostgreSQL, in the manner of ``tests/api/test_plans.py``) its plan.
"""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import services
from articles.admin import ArticleAdmin
from articles.models import Article, ClinicalReview, Medication, Revision, Symptom, SymptomEntry
from contentsite.admin import BoundedCountPaginator, BoundedDeletionMixin
from tests.api.bulk import live_articles, sql_library
from tests.api.test_plans import ARTICLES, nodes
from tests.articles.test_admin_side_doors import change_url
from tests.conftest import make_user
from tests.queries import selects_of

pytestmark = pytest.mark.django_db

ARTICLE_LINK = re.compile(r'href="/admin/articles/article/\d+/change/"')


def listed(client, entry) -> tuple[int, int, str]:
    """The queries a vocabulary entry's change page runs, the articles it links to, and its text."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(change_url(entry))
    assert response.status_code == 200
    html = response.content.decode()
    return len(queries), len(ARTICLE_LINK.findall(html)), html


def test_a_medications_page_lists_a_bounded_number_of_the_articles_that_show_it(client, reviewer):
    # At 100,000 articles over 20 medicines each medicine's page listed its 5,000 articles: 1.8 s.
    medication = Medication.objects.create(slug="scalamol", generic_name="Scalamol")
    live_articles(30, medication=medication, reviewer=reviewer, prefix="few")
    client.force_login(reviewer)
    listed(client, medication)  # the session's first page reads what later pages find cached
    queries, links, _ = listed(client, medication)
    live_articles(60, medication=medication, reviewer=reviewer, prefix="many")
    more_queries, more_links, html = listed(client, medication)
    assert (more_queries, more_links) == (queries, links)
    assert links <= 30
    assert f"and {90 - links} more (90 in all)" in html


def test_a_symptoms_page_lists_a_bounded_number_of_the_articles_that_show_it(client, reviewer):
    # The bench's symptom, shown by every one of 100,000 articles: its page took 20 s.
    medication = Medication.objects.create(slug="scalamol", generic_name="Scalamol")
    live_articles(30, medication=medication, reviewer=reviewer, prefix="few")
    symptom = Symptom.objects.get(slug="few-symptom")
    client.force_login(reviewer)
    listed(client, symptom)
    queries, links, _ = listed(client, symptom)
    live_articles(60, medication=medication, reviewer=reviewer, prefix="many")
    SymptomEntry.objects.filter(symptom__slug="many-symptom").update(symptom=symptom)
    more_queries, more_links, html = listed(client, symptom)
    assert (more_queries, more_links) == (queries, links)
    assert links <= 30
    assert f"and {90 - links} more (90 in all)" in html


def test_a_list_too_long_to_count_says_so_and_pages_through_the_first_rows(
    client, admin_user_account, reviewer, monkeypatch
):
    monkeypatch.setattr(BoundedCountPaginator, "limit", 5)  # 2,000 in use, 20 pages of 100
    monkeypatch.setattr(ArticleAdmin, "list_per_page", 2)
    Medication.objects.create(slug="otheramol", generic_name="Otheramol")  # a filter of one choice is not shown
    medication = Medication.objects.create(slug="scalamol", generic_name="Scalamol")
    live_articles(8, medication=medication, reviewer=reviewer, prefix="few")
    client.force_login(admin_user_account)
    html = client.get(f"/admin/articles/article/?medication__id__exact={medication.pk}").content.decode()
    assert "More than 5 articles: search or filter to narrow the list" in html
    assert "More than 5 results (" in html  # beside the search, not the 5 it counted
    assert " results (" not in client.get("/admin/articles/article/").content.decode()  # nothing narrows the list
    assert "Select all 5" not in html  # an action never runs on rows nobody counted
    assert "total)" not in html  # nor is the unfiltered table counted for "N results (M total)"
    assert client.get("/admin/articles/article/?p=3").status_code == 200
    assert "?e=1" in client.get("/admin/articles/article/?p=4")["Location"]  # only the counted rows are paged
    assert "1 article\n" in client.get("/admin/articles/article/?q=few-0001").content.decode()


def test_a_revision_keeps_its_latest_reviews_date_for_the_overdue_worklist(workflow, reviewer):
    """``Revision.review_due``, which the overdue worklist reads by index, is always the latest review's date."""
    live = workflow.live()
    [review] = ClinicalReview.objects.filter(revision=live)
    assert Revision.objects.get(pk=live.pk).review_due == review.next_review_due
    past = timezone.localdate() - datetime.timedelta(days=2)
    ClinicalReview.objects.filter(pk=review.pk).update(next_review_due=past)  # as a data fix would
    assert Revision.objects.get(pk=live.pk).review_due == past
    assert list(Revision.objects.overdue_for_review()) == [live]
    second = make_user("second-reviewer", "Clinical reviewers", profile=True)
    confirmation = services.revision_confirm_review(revision=live, actor=second, comment="Checked.")
    assert Revision.objects.get(pk=live.pk).review_due == confirmation.next_review_due > past
    assert not Revision.objects.overdue_for_review().exists()
    # A review recorded earlier than the latest (a correction of its time) does not move the date back.
    ClinicalReview.objects.filter(pk=review.pk).update(
        reviewed_at=confirmation.reviewed_at - datetime.timedelta(days=1)
    )
    assert Revision.objects.get(pk=live.pk).review_due == confirmation.next_review_due
    # Never reviewed: overdue, as before.
    ClinicalReview.objects.filter(revision=live).delete()
    Revision.objects.filter(pk=live.pk).keep_review_due()
    assert Revision.objects.get(pk=live.pk).review_due is None
    assert [(r, r.next_review_due) for r in Revision.objects.overdue_for_review()] == [(live, None)]


def test_the_lists_find_each_word_in_a_slug_title_or_topic(client, admin_user_account, reviewer):
    medication = Medication.objects.create(slug="scalamol", generic_name="Scalamol")
    live_articles(12, medication=medication, reviewer=reviewer, prefix="few")
    Revision.objects.filter(article__slug="few-0003").update(topic="Ankle swelling")
    client.force_login(admin_user_account)

    def found(changelist: str, words: str) -> set[str]:
        html = client.get(changelist, {"q": words}).content.decode()
        return set(re.findall(r"few-00[0-9]{2}", html))

    for changelist in ("/admin/articles/article/", "/admin/articles/revision/"):
        assert found(changelist, "few-0003") == {"few-0003"}
        assert found(changelist, "FEW-0003 title") == {"few-0003"}  # every word, in any of the fields
        assert found(changelist, '"title few-001"') == {"few-0010", "few-0011"}  # quoted: one phrase
        assert found(changelist, "zyzzyva") == set()
    assert found("/admin/articles/article/", "ankle few") == {"few-0003"}  # the topic of a revision


# --- The lists, on PostgreSQL at 20,000 articles ---------------------------------------------------------------------


def rows_read(sql: str) -> int:
    """How many rows the query's scans read (kept or filtered out, in every loop), as EXPLAIN ANALYZE counts them."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        [[document]] = cursor.fetchall()
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return sum(
        (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * node.get("Actual Loops", 1)
        for node in nodes(plan)
        if node["Node Type"].endswith("Scan")
    )


# A page of 100 rows, its count and its filters' choices read a few thousand rows at most, whatever the library's size.
MAX_ROWS_READ = 5_000


@pytest.mark.postgresql
def test_the_article_and_revision_lists_read_a_bounded_number_of_rows(client, admin_user_account, reviewer):
    # At 100,000 articles each list counted the whole table for its paginator (and again, unfiltered, for "N total"),
    # and a page far down read every row before it: 0.4 s for page 500.
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    # Filtered by a medicine few articles show: a plan that walked the list's order and filtered would read the whole
    # table for it. (For one of the library's 50 medicines, each on 1 in 50 articles, such a plan reads 50 rows per
    # row listed, about 5,000 for a page of 100 at any size: the planner may choose it, depending on the dead rows
    # earlier tests left in the table, so that filter decided nothing about growth.)
    medication = Medication.objects.create(slug="rareamol", generic_name="Rareamol")
    live_articles(5, medication=medication, reviewer=reviewer, prefix="rare")
    client.force_login(admin_user_account)
    urls = [
        "/admin/articles/article/",
        f"/admin/articles/article/?medication__id__exact={medication.pk}",
        "/admin/articles/article/?p=10",
        "/admin/articles/revision/",
        "/admin/articles/revision/?worklist=live",
        "/admin/articles/revision/?state__exact=published",
        "/admin/articles/revision/?p=10",
    ]
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert found == {url: [] for url in urls}


@pytest.mark.postgresql
def test_a_reviewers_home_page_and_the_overdue_worklist_read_a_bounded_number_of_rows(client, reviewer):
    # At 100,000 articles the home page counted the overdue revisions by working out the latest review of every live
    # revision (0.9 s, for every reviewer and publisher at every visit), the overdue list did it twice (2.6 s), and
    # the counts of revisions in review or approved read every revision for want of an index on the state.
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    client.force_login(reviewer)
    urls = ["/admin/", "/admin/articles/overduereview/", "/admin/articles/revision/?dashboard=overdue"]
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert found == {url: [] for url in urls}


@pytest.mark.postgresql
def test_every_column_the_lists_sort_by_is_read_by_index(client, admin_user_account, reviewer):
    # At 100,000 articles sorting the article list by its latest topic worked out and sorted every article's topic
    # (0.45 s), by date created read and sorted every article, and the revision list by title, state or author every
    # revision (0.2 s).
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    client.force_login(admin_user_account)
    urls = []
    for changelist in ("/admin/articles/article/", "/admin/articles/revision/"):
        links = re.findall(r'href="\?o=([-0-9.]+)"', client.get(changelist).content.decode())
        columns = sorted({abs(int(column)) for link in links for column in link.split(".")})
        urls += [f"{changelist}?o={sign}{column}" for column in columns for sign in ("", "-")]
    # An order the page does not offer, typed or bookmarked, is ignored as an unknown column is.
    urls += ["/admin/articles/article/?o=-4.3", "/admin/articles/revision/?o=1.2.3.4.5"]
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert {"/admin/articles/article/?o=1", "/admin/articles/article/?o=-2"} <= set(urls)
    assert found == {url: [] for url in urls}


@pytest.mark.postgresql
def test_the_lists_search_by_index(client, admin_user_account, reviewer):
    # At 100,000 articles a search of either list joined every article to every revision and read them all for the
    # words (0.35-0.45 s), whatever it found.
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    client.force_login(admin_user_account)
    urls = [
        f"{changelist}?q={words}"
        for changelist in ("/admin/articles/article/", "/admin/articles/revision/")
        for words in ("zyzzyva", "sql-01234", '"le+sql-01234"')  # none, 10 slugs, 10 titles
    ]
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert "sql-012345" in client.get("/admin/articles/article/?q=sql-01234").content.decode()
    assert "sql-012345" in client.get('/admin/articles/revision/?q="le+sql-01234"').content.decode()
    assert found == {url: [] for url in urls}


def test_an_articles_page_costs_the_same_queries_however_long_its_history(
    client, admin_user_account, published_article, author
):
    """Found at 100,000 articles (helper h7): the admin page of an article with 503 revisions ran 1,015 queries and
    took 7 s, two for each revision listed (its article and its author, read one row at a time)."""
    client.force_login(admin_user_account)
    url = change_url(published_article.article)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    queries()  # once, for what is read once (content types, the session)
    few = queries()
    Revision.objects.bulk_create(
        Revision(
            article=published_article.article,
            number=100 + n,
            state="archived",
            title=published_article.title,
            topic=published_article.topic,
            summary=published_article.summary,
            created_by=author,
            content_hash="0" * 64,
        )
        for n in range(30)
    )
    assert queries() == few


def test_an_articles_page_shows_the_latest_of_a_long_audit_log_and_says_where_the_rest_is(
    client, admin_user_account, published_article, publisher
):
    """Found at 100,000 articles (helper h7): the admin page of an article with 3,020 audit entries (503 revisions
    through the workflow; each rename of its medication adds one more) rendered every entry: 5.7 MB and 10 s, and
    past about 9,000 entries gunicorn's 30 s timeout would have cut it off. It shows the latest entries now, says
    how many there are, and links to the whole log."""
    from articles.admin import ARTICLE_AUDIT_SHOWN
    from articles.models import AuditEntry

    article = published_article.article
    AuditEntry.objects.bulk_create(
        AuditEntry(article=article, actor=publisher, action="update_medication", comment=f"Entry {n}.")
        for n in range(ARTICLE_AUDIT_SHOWN + 20)
    )
    total = AuditEntry.objects.filter(article=article).count()
    latest = AuditEntry.objects.filter(article=article).latest("pk")
    client.force_login(admin_user_account)
    response = client.get(change_url(article))
    assert response.status_code == 200
    [audit] = [f for f in response.context["inline_admin_formsets"] if f.opts.model is AuditEntry]
    shown = [form.instance.pk for form in audit.formset.forms]
    assert len(shown) == ARTICLE_AUDIT_SHOWN and latest.pk in shown
    assert shown == sorted(shown)  # oldest first, as the whole log reads
    page = response.content.decode()
    assert f"latest {ARTICLE_AUDIT_SHOWN} of {total}" in page
    assert f"/admin/articles/auditentry/?q={article.slug}" in page


def test_an_articles_page_shows_the_latest_of_a_long_revision_list_and_says_where_the_rest_is(
    client, admin_user_account, published_article, author
):
    """Found at 100,000 articles (helper h7): the admin page of an article with 503 revisions listed every one of
    them (1 MB, 2 s), so the page grew with every publication, as its audit log did before it was bounded. It lists
    the latest revisions now, newest first, says how many there are, and links to them all in the revision list."""
    from articles.admin import ARTICLE_REVISIONS_SHOWN

    article = published_article.article
    Revision.objects.bulk_create(
        Revision(
            article=article,
            number=100 + n,
            state="archived",
            title=published_article.title,
            topic=published_article.topic,
            summary=published_article.summary,
            created_by=author,
            content_hash="0" * 64,
        )
        for n in range(ARTICLE_REVISIONS_SHOWN + 20)
    )
    total = Revision.objects.filter(article=article).count()
    client.force_login(admin_user_account)
    response = client.get(change_url(article))
    assert response.status_code == 200
    [revisions] = [f for f in response.context["inline_admin_formsets"] if f.opts.model is Revision]
    shown = [form.instance.number for form in revisions.formset.forms]
    assert len(shown) == ARTICLE_REVISIONS_SHOWN
    assert shown == sorted(shown, reverse=True)  # newest first, as before
    assert shown[0] == 100 + ARTICLE_REVISIONS_SHOWN + 19
    page = response.content.decode()
    assert f"latest {ARTICLE_REVISIONS_SHOWN} of {total}" in page
    assert f"/admin/articles/revision/?q={article.slug}" in page


@pytest.mark.postgresql
def test_the_audit_log_is_searched_by_index(client, admin_user_account, reviewer):
    """Found at 100,000 articles (helper h7; 300,000 audit entries): each search of the audit list, whatever it
    found, joined every entry to its article and its actor and read them all for the words (about 0.6 s a query,
    three such queries a page: 2 s). The entries whose article's slug, comment or actor's username has each word
    are found by index (``0106_auditentry_search_trigram_indexes``)."""
    from articles.models import AuditEntry

    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    rarely = make_user("rarely-acting")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO articles_auditentry (action, from_state, to_state, comment, data, created_at, actor_id,"
            " actor_name, actor_username, article_id, revision_id)"
            " SELECT step.action, step.from_state, step.to_state, step.comment || ' ' || article.slug, '{}', now(),"
            " %s, %s, %s, article.id, NULL FROM articles_article article CROSS JOIN (VALUES"
            " ('submit', 'draft', 'in_review', 'Ready for review'),"
            " ('approve', 'in_review', 'approved', 'Checked the doses against the SPC')) AS step"
            " (action, from_state, to_state, comment)",
            [reviewer.pk, *(AuditEntry.naming(reviewer)[name] for name in ("actor_name", "actor_username"))],
        )
        cursor.execute("ANALYZE articles_auditentry")
    article = Article.objects.get(slug="sql-012345")
    AuditEntry.objects.bulk_create(
        AuditEntry(article=article, **AuditEntry.naming(rarely), action="update_medication", comment="Renamed.")
        for _ in range(3)
    )
    client.force_login(admin_user_account)
    urls = [
        f"/admin/articles/auditentry/?q={words}"
        # none; 10 slugs (in their entries' comments too); 10 comments, quoted; a username of few entries. (A word in
        # 20,000 comments, such as SPC, reads those 20,000 entries' ids whatever the other words: each word's matches
        # are found by index, then intersected.)
        for words in ("zyzzyva", "sql-01234", '"SPC+sql-01234"', "rarely-acting")
    ]
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert "Renamed." in client.get("/admin/articles/auditentry/?q=rarely").content.decode()
    assert "against the SPC sql-012345" in client.get('/admin/articles/auditentry/?q="SPC+sql-012345"').content.decode()
    assert found == {url: [] for url in urls}


def _audit_log_of_every_article(reviewer) -> None:
    """Two workflow steps for each article of the library, older than anything a test does next."""
    from articles.models import AuditEntry

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO articles_auditentry (action, from_state, to_state, comment, data, created_at, actor_id,"
            " actor_name, actor_username, article_id, revision_id)"
            " SELECT step.action, step.from_state, step.to_state, step.comment || ' ' || article.slug, '{}',"
            " now() - interval '30 days' + article.id * interval '1 second', %s, %s, %s, article.id, NULL"
            " FROM articles_article article CROSS JOIN (VALUES"
            " ('submit', 'draft', 'in_review', 'Ready for review'),"
            " ('approve', 'in_review', 'approved', 'Checked the doses against the SPC')) AS step"
            " (action, from_state, to_state, comment) ORDER BY article.id",
            [reviewer.pk, *(AuditEntry.naming(reviewer)[name] for name in ("actor_name", "actor_username"))],
        )
        cursor.execute("ANALYZE articles_auditentry")


@pytest.mark.postgresql
def test_the_audit_log_opens_at_its_latest_entries_and_sorts_only_by_index(client, admin_user_account, reviewer):
    """Found at 100,000 articles (helper h2; 300,000 audit entries): the audit list opened at its oldest entries, and
    pages only its first 2,000 rows ("More than 2000"), so the step a clinician took a minute ago was on no page of
    it; clicking its Article, Revision, Action, From, To or Comment heading read and sorted every entry of the log
    (0.3-0.9 s each); and its date hierarchy read every entry listed for their months on every page (0.13 s; 1.5 s
    of a 2.5 s page searching for a reviewer's user name)."""
    from articles.models import AuditEntry

    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    _audit_log_of_every_article(reviewer)
    AuditEntry.objects.create(
        article=Article.objects.get(slug="sql-012345"),
        **AuditEntry.naming(reviewer),
        action="request_changes",
        comment="Just now: the dose in section 2 is wrong.",
    )
    client.force_login(admin_user_account)
    html = client.get("/admin/articles/auditentry/").content.decode()
    assert "Just now: the dose in section 2 is wrong." in html
    links = re.findall(r'href="\?o=([-0-9.]+)"', html)
    columns = sorted({abs(int(column)) for link in links for column in link.split(".")})
    urls = [f"/admin/articles/auditentry/?o={sign}{column}" for column in columns for sign in ("", "-")]
    urls += ["/admin/articles/auditentry/", "/admin/articles/auditentry/?o=8.3.2"]  # typed or bookmarked
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert found == {url: [] for url in urls}


@pytest.mark.postgresql
def test_a_vocabulary_entrys_page_reads_a_bounded_number_of_rows_however_many_articles_show_it(client, reviewer):
    """Found at 100,000 articles (helper h2): a symptom's page, naming the first 20 articles that show it by slug and
    counting the rest, walked the whole article table by slug testing each against every row showing the symptom, for
    a symptom three articles show (0.28 s), and for one every article shows read all 100,000 rows to hash them and
    again to count them (0.24 + 0.29 s). It reads the rows showing the entry by index, up to 2,001 articles, and says
    "more than 2000" beyond: as the lists count."""
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")  # "sql-symptom" on every article, 50 medicines
    rare = Medication.objects.create(slug="rareamol", generic_name="Rareamol")
    live_articles(3, medication=rare, reviewer=reviewer, prefix="rare")
    common = Symptom.objects.get(slug="sql-symptom")
    client.force_login(reviewer)
    pages = {
        "rare symptom": Symptom.objects.get(slug="rare-symptom"),
        "common symptom": common,
        "rare medication": rare,
        "common medication": Medication.objects.get(slug="sql-med-07"),
    }
    found, html = {}, {}
    for name, entry in pages.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(change_url(entry))
        assert response.status_code == 200, name
        html[name] = response.content.decode()
        selects = [query["sql"] for query in captured if query["sql"].lstrip().upper().startswith("SELECT")]
        found[name] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert found == {name: [] for name in pages}
    assert len(ARTICLE_LINK.findall(html["rare symptom"])) == 3
    assert "more than 2000 in all" in html["common symptom"]
    assert f"and {ARTICLES // 50 - 20} more ({ARTICLES // 50} in all)" in html["common medication"]


@pytest.mark.postgresql
def test_the_history_pages_and_recent_actions_read_a_bounded_number_of_rows(client, reviewer, published_article):
    """Found at 100,000 articles (helper h3; 300,000 entries in Django's admin log, the three workflow steps of each
    revision that ``services._admin_log`` writes): a reviewer's home page read every entry they ever made to show
    their 10 "Recent actions" (0.2 s at 100,000 approvals, on every visit), and a revision's "History" read every
    entry of every revision of the library for its own few (0.08 s, twice: its count and its page). Django indexes
    the log by content type and by user only; ``0108_admin_log_indexes`` indexes what these pages ask."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    revision_type = ContentType.objects.get_for_model(Revision)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_admin_log (action_time, object_id, object_repr, action_flag, change_message,"
            " content_type_id, user_id) SELECT now() - interval '30 days' + n * interval '1 second',"
            " (1000000 + n)::text, 'Revision', 2, '[]', %s, %s FROM generate_series(1, 20000) AS n",
            [revision_type.pk, reviewer.pk],
        )
        cursor.execute("ANALYZE django_admin_log")
    assert LogEntry.objects.filter(object_id=str(published_article.pk), content_type=revision_type).exists()
    client.force_login(reviewer)
    urls = [
        "/admin/",
        f"/admin/articles/revision/{published_article.pk}/history/",
        f"/admin/articles/article/{published_article.article_id}/history/",
    ]
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert found == {url: [] for url in urls}


def test_a_delete_page_names_a_bounded_number_of_the_rows_that_protect_the_entry(
    client, admin_user_account, reviewer, monkeypatch
):
    """Found at 100,000 articles (helper h3): an administrator's "Delete" on the bench's symptom (shown by every
    article) listed all 100,000 symptom entries that stop it being deleted (4.6 s, 2.7 MB), on a medicine 5,000
    articles (0.4 s), and on the demo reviewer's account every audit entry, review and admin log entry it ever made:
    8,816 queries and 13 minutes, past any server's timeout, to say that it cannot be deleted. The page asks by index
    for a few of the rows that protect it, names them and says there are more."""
    from django.contrib.auth import get_user_model

    monkeypatch.setattr(BoundedDeletionMixin, "protected_shown", 2)  # 20 in use
    medication = Medication.objects.create(slug="scalamol", generic_name="Scalamol")
    live_articles(3, medication=medication, reviewer=reviewer, prefix="few")
    symptom = Symptom.objects.get(slug="few-symptom")
    client.force_login(admin_user_account)
    urls = [
        reverse(f"admin:{entry._meta.app_label}_{entry._meta.model_name}_delete", args=[entry.pk])
        for entry in (symptom, medication, reviewer)
    ]

    def cost(url: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert response.context["protected"]  # nothing is deleted: the page says what stops it
        return len(captured), len(response.context["protected"])

    [cost(url) for url in urls]  # what is read once (content types, the session)
    few = {url: cost(url) for url in urls}
    live_articles(30, medication=medication, reviewer=reviewer, prefix="many")
    SymptomEntry.objects.filter(symptom__slug="many-symptom").update(symptom=symptom)
    assert {url: cost(url) for url in urls} == few
    html = client.get(urls[0]).content.decode()
    assert "and more symptom entries" in html
    client.post(urls[0], {"post": "yes"})
    client.post(urls[2], {"post": "yes"})
    assert Symptom.objects.filter(pk=symptom.pk).exists()
    assert get_user_model().objects.filter(pk=reviewer.pk).exists()
    unused = Symptom.objects.create(slug="unused", name="Unused", description="D.", snomed_ct_code="654321")
    url = reverse("admin:articles_symptom_delete", args=[unused.pk])
    assert not client.get(url).context["protected"]
    client.post(url, {"post": "yes"})
    assert not Symptom.objects.filter(pk=unused.pk).exists()  # nothing protects it: deleted, as before


@pytest.mark.postgresql
def test_the_audit_log_filtered_by_action_reads_a_bounded_number_of_rows(client, admin_user_account, reviewer):
    """Found at 100,000 articles (helper h3; 200,000 audit entries): the audit list's "By action" filter for a step
    taken rarely (withdraw; an archive, a changed medicine) read every entry of the log, twice (its count, then its
    page, walking the log newest first for the few entries of that action): 0.06 s a query at 200,000, growing with
    every step anyone takes. ``auditentry_action_latest`` (the action, then the id) finds them by index."""
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    _audit_log_of_every_article(reviewer)
    client.force_login(admin_user_account)
    urls = [
        f"/admin/articles/auditentry/?action__exact={action}" for action in ("withdraw", "update_medication", "approve")
    ]
    found = {}
    for url in urls:
        selects = selects_of(client, url)
        found[url] = [read for read in map(rows_read, selects) if read > MAX_ROWS_READ]
    assert found == {url: [] for url in urls}


def test_an_action_never_runs_across_a_list_too_long_to_count(client, admin_user_account, reviewer, monkeypatch):
    """Found at 100,000 articles (helper h3): the article list hides "Select all" on a list longer than it counts, but
    a request asking for it all the same (a page left open before the library grew, a form sent again) ran "Start a
    new draft" on every article of the library: 9,883 drafts in the 5 minutes before the request was stopped, each
    article's new open draft blocking the next. An action on such a list runs on the rows ticked, or is refused."""
    monkeypatch.setattr(BoundedCountPaginator, "limit", 5)
    medication = Medication.objects.create(slug="scalamol", generic_name="Scalamol")
    live_articles(8, medication=medication, reviewer=reviewer, prefix="few")
    client.force_login(admin_user_account)
    ticked = Article.objects.get(slug="few-0001").pk
    drafts = Revision.objects.filter(state="draft")
    response = client.post(
        "/admin/articles/article/",
        {"action": "start_draft", "select_across": "1", "_selected_action": [ticked], "index": "0"},
        follow=True,
    )
    assert not drafts.exists()
    assert "Nothing done: there are more than 5 articles" in response.content.decode()
    # A list narrowed to what it counts is acted on whole, as before.
    client.post(
        "/admin/articles/article/?q=few-0001",
        {"action": "start_draft", "select_across": "1", "_selected_action": [ticked], "index": "0"},
    )
    assert [draft.article.slug for draft in drafts] == ["few-0001"]


@pytest.mark.django_db
def test_the_admin_log_has_the_indexes_its_history_and_recent_actions_read():
    """``articles/0108``'s indexes on Django's own table, on either database (the rows-read test above runs on
    PostgreSQL only): a rebuild of the table by a later migration would drop them silently."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "django_admin_log")
    assert found["admin_log_object_history"]["columns"] == ["content_type_id", "object_id", "action_time"]
    assert found["admin_log_user_latest"]["columns"] == ["user_id", "action_time"]


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "changelist", ["/admin/articles/auditentry/", "/admin/articles/article/", "/admin/articles/revision/"]
)
def test_a_search_reads_only_what_it_finds_when_the_planner_expects_many_more(
    client, admin_user_account, reviewer, changelist
):
    """Found in CI (stop 40, PostgreSQL pass): the audit search above read all 40,000 entries, twice, once in
    about fifteen runs. Each word's matches narrowed the list as ``id IN (subquery)``, and when ANALYZE's sample
    happened to hold a matching comment the planner expected a few hundred matches (20 in fact), hashed them and
    read the whole log to join it. Here the statistics say 1 row in 20 has the word, as they would after a busy
    week before autovacuum's next ANALYZE: the few rows that have it now are still all that is read."""
    sql_library(ARTICLES, reviewer=reviewer, prefix="sql")
    with connection.cursor() as cursor:
        if changelist == "/admin/articles/auditentry/":
            # Append-only: the log ANALYZE saw was 400 entries, 20 with the word; 40,000 entries came after.
            _audit_entries(cursor, reviewer, 20, "Ready for review zqxstale")
            _audit_entries(cursor, reviewer, 380, "Ready for review")
            cursor.execute("ANALYZE articles_auditentry")
            _audit_entries(cursor, reviewer, 2 * ARTICLES, "Approved")
        else:  # the titles: 1 in 20 had the word when ANALYZE read them; 20 have it now
            cursor.execute("UPDATE articles_revision SET title = title || ' zqxstale' WHERE id % 20 = 0")
            cursor.execute("ANALYZE articles_revision")
            cursor.execute("UPDATE articles_revision SET title = replace(title, ' zqxstale', '') WHERE id % 20 = 0")
            cursor.execute(
                "UPDATE articles_revision SET title = title || ' zqxstale'"
                " WHERE id IN (SELECT id FROM articles_revision ORDER BY id LIMIT 20)"
            )
    client.force_login(admin_user_account)
    url = f"{changelist}?q=zqxstale"
    reads = list(map(rows_read, selects_of(client, url)))
    assert [read for read in reads if read > MAX_ROWS_READ] == [], reads
    assert "20 results" in client.get(url).content.decode()


def _audit_entries(cursor, reviewer, count: int, comment: str) -> None:
    """``count`` audit entries with this comment, on the library's articles in turn."""
    from articles.models import AuditEntry

    naming = AuditEntry.naming(reviewer)
    cursor.execute(
        "INSERT INTO articles_auditentry (action, from_state, to_state, comment, data, created_at, actor_id,"
        " actor_name, actor_username, article_id, revision_id)"
        " SELECT 'submit', 'draft', 'in_review', %s, '{}', now(), %s, %s, %s, article.id, NULL"
        " FROM generate_series(1, %s) AS n"
        " JOIN articles_article article ON article.slug = 'sql-' || lpad(((n - 1) %% %s)::text, 6, '0')",
        [comment, reviewer.pk, naming["actor_name"], naming["actor_username"], count, ARTICLES],
    )
