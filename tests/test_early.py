"""Public pages answered before the middleware stack (``contentsite.early``): what is kept, for whom,
and that the next request after any public change is answered by the full stack again.

An early answer is recognisable from outside the view: the request never went
through ``AuthenticationMiddleware``, so it has no ``user``.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.cache import get_conditional_response
from hypothesis import given, settings
from hypothesis import strategies as st

from articles import services
from articles.interchange.export import revision_content
from articles.memo import forget_all
from articles.models import Revision, Symptom
from contentsite import proxy
from contentsite.conditional import conditional_response
from contentsite.early import Validators
from tests.factories import article_document, changed
from tests.outages import REDIS_PORTS, free_port, redis_cache

URL = "/articles/early/"


def early(response: Any) -> bool:
    return not hasattr(response.wsgi_request, "user")


def retitled(workflow: Any, live_revision: Revision, title: str) -> Revision:
    draft = workflow.next_draft(live_revision)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["title"] = title
    services.revision_update_content(revision=draft, actor=draft.created_by, expected_lock_version=0, content=content)
    return workflow.take_live(Revision.objects.get(pk=draft.pk))


@pytest.mark.parametrize("url", [URL, f"{URL}history/", "/", "/sitemap.xml", "/sitemap-articles.xml"])
def test_a_repeat_is_answered_early_with_the_same_headers_and_bytes(client, workflow, clock, url):
    workflow.live(slug="early")
    clock.settle()  # dated (Last-Modified), as the early copy must be too
    first = client.get(url)
    assert first.status_code == 200 and not early(first)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert early(again) and early(not_modified)
    assert len(queries) == 0
    assert again.content == first.content
    per_request = {"X-Request-ID"}  # the request log's, set outside
    assert {k: v for k, v in again.headers.items() if k not in per_request} == {
        k: v for k, v in first.headers.items() if k not in per_request
    }
    assert not_modified.status_code == 304 and not_modified.content == b""
    for header in ("ETag", "Last-Modified", "Cache-Control", proxy.SURROGATE_HEADER, "Vary"):
        assert not_modified[header] == first[header], header
    assert "Content-Type" not in not_modified.headers and "Content-Length" not in not_modified.headers


@pytest.mark.parametrize("url", [URL, f"{URL}history/"])
def test_a_304_carries_the_pages_surrogate_keys_whatever_is_cached(client, workflow, url):
    """Found from outside: with the rendered page in no cache (a new process, the shared cache flushed or past its
    hour), a conditional request was answered 304 with the article's key alone; Varnish takes a revalidation's
    headers, so the page it kept lost its medication and symptom keys, and a change to those that touched too many
    articles to name each (purged by its own key) left it stale. The history page never had the symptom keys."""
    live = workflow.live(slug="early", medication="earlymol")
    first = client.get(url)
    keys = set(first[proxy.SURROGATE_HEADER].split())
    shown = Symptom.objects.filter(entries__revision=live).distinct()
    assert shown
    expected = {
        proxy.article_key(live.article_id),
        proxy.medication_key(live.article.medication_id),
        *(proxy.symptom_key(symptom.pk) for symptom in shown),
    }
    assert keys == expected
    cache.clear()
    forget_all()
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304
    assert set(not_modified[proxy.SURROGATE_HEADER].split()) == expected


@pytest.mark.parametrize("url", [URL, f"{URL}history/", "/"])
@pytest.mark.parametrize(
    "condition",
    [{"HTTP_IF_MATCH": '"not-this-one"'}, {"HTTP_IF_UNMODIFIED_SINCE": "Mon, 01 Jan 2001 00:00:00 GMT"}],
    ids=["if-match", "if-unmodified-since"],
)
def test_a_precondition_that_fails_is_a_412_whether_or_not_the_page_is_kept(client, workflow, url, condition):
    """Found from outside: once a page was kept, a request whose If-Match or If-Unmodified-Since failed was answered
    from the copy (200, the page), while the same request before was refused (412), as RFC 9110 (13.1.1, 13.1.4)
    says it must be. One request, two answers, by what someone else had asked before."""
    workflow.live(slug="early")
    before = client.get(url, **condition)
    assert client.get(url).status_code == 200  # now kept
    after = client.get(url, **condition)
    assert (before.status_code, after.status_code) == (412, 412)
    matching = client.get(url, HTTP_IF_MATCH=client.get(url)["ETag"])
    assert matching.status_code == 200 and early(matching)


def test_each_early_answer_has_headers_of_its_own(client, workflow):
    workflow.live(slug="early")
    first = client.get(URL)
    again = client.get(URL)
    not_modified = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert early(again) and early(not_modified)
    again["Cache-Control"] = "private"  # what a middleware above could do to one answer
    not_modified["ETag"] = '"changed"'
    later = client.get(URL)
    later_not_modified = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert later["Cache-Control"] == first["Cache-Control"]
    assert later_not_modified.status_code == 304 and later_not_modified["ETag"] == first["ETag"]


def test_head_and_if_modified_since_are_answered_early_too(client, workflow, clock):
    workflow.live(slug="early")
    clock.settle()
    first = client.get(URL)
    head = client.head(URL)
    assert early(head) and head.status_code == 200 and head["ETag"] == first["ETag"]
    since = client.get(URL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert early(since) and since.status_code == 304


@pytest.mark.parametrize("change", ["publish", "withdraw", "review", "vocabulary"])
def test_the_next_request_after_a_public_change_is_not_an_early_answer(client, workflow, reviewer, publisher, change):
    live = workflow.live(slug="early", medication="earlymol")
    etag = client.get(URL)["ETag"]
    assert early(client.get(URL))
    if change == "publish":
        retitled(workflow, live, "A new title for the early page")
    elif change == "withdraw":
        services.revision_withdraw(revision=live, actor=publisher, reason="Superseded advice.")
    elif change == "review":
        services.revision_confirm_review(revision=live, actor=reviewer, comment="Checked against the sources again.")
    else:
        medication = live.article.medication
        services.medication_update(
            medication=medication, actor=reviewer, reason="Brand names", changes={"brand_names": ["Earlybrand"]}
        )
    response = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert not early(response)
    assert response.status_code == (410 if change == "withdraw" else 200)
    if change == "publish":
        assert "A new title for the early page" in response.content.decode()
    if change == "vocabulary":
        assert "Earlybrand" in response.content.decode()


def test_a_reader_with_a_session_gets_the_full_stack(client, workflow, author):
    workflow.live(slug="early")
    client.get(URL)
    assert early(client.get(URL))
    client.force_login(author)
    response = client.get(URL)
    assert not early(response) and response.status_code == 200


def test_a_host_outside_allowed_hosts_is_refused_even_when_kept(client, workflow):
    workflow.live(slug="early")
    client.get(URL)
    assert client.get(URL, HTTP_HOST="evil.example").status_code == 400


def test_a_response_that_sets_a_cookie_or_is_private_is_never_kept(client, workflow, monkeypatch):
    from articles import views

    workflow.live(slug="early")
    real = views._live_page

    def with_cookie(*args: Any, **kwargs: Any) -> Any:
        response = real(*args, **kwargs)
        response.set_cookie("flavour", "oat")
        return response

    monkeypatch.setattr(views, "_live_page", with_cookie)
    client.get(URL)
    second = client.get(URL)
    assert not early(second) and second.cookies["flavour"].value == "oat"


def test_the_query_string_of_an_article_page_does_not_split_the_copy_but_a_sitemap_page_is_its_own(client, workflow):
    workflow.live(slug="early")
    client.get(URL)
    assert early(client.get(f"{URL}?utm_source=news"))
    client.get("/sitemap-articles.xml")
    assert client.get("/sitemap-articles.xml?p=99999").status_code == 404  # past the last page: its own answer
    assert early(client.get("/sitemap-articles.xml"))


def test_pages_that_are_not_live_are_never_answered_early(client, workflow):
    workflow.live(slug="early")
    for url in ("/articles/nothing-here/", "/search/?q=early", "/articles/early"):
        client.get(url)
        assert not early(client.get(url)), url


def test_a_process_that_has_only_answered_304s_answers_the_next_304_early(client, workflow):
    """Behind a proxy, a server may see nothing but revalidations of a page another server rendered."""
    from articles.memo import forget_all

    workflow.live(slug="early")
    first = client.get(URL)
    forget_all()  # another process: it has kept nothing
    assert not early(client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"]))
    again = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert early(again) and again.status_code == 304
    assert again[proxy.SURROGATE_HEADER] == first[proxy.SURROGATE_HEADER]
    full = client.get(URL)  # a 304's headers are no page: the full stack renders it, once
    assert not early(full) and full.content == first.content
    assert early(client.get(URL))


@pytest.mark.parametrize("url", [URL, f"{URL}history/", "/", "/sitemap.xml", "/sitemap-articles.xml"])
def test_a_304_never_says_its_content_is_empty_whichever_path_answers_it(client, workflow, url):
    """RFC 9110, 8.6: a 304's Content-Length, if it has one, is the 200's; Django's CommonMiddleware gave the full
    stack's 304 the length of its own (empty) content, 0, which the early 304 never had."""
    from articles.memo import forget_all

    workflow.live(slug="early")
    first = client.get(url)
    forget_all()  # another process: the full stack answers its first 304
    full_stack = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    answered_early = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert not early(full_stack) and early(answered_early)
    for response in (full_stack, answered_early):
        assert response.status_code == 304
        assert response.get("Content-Length") in (None, first["Content-Length"])


def test_a_request_with_credentials_is_never_answered_early(client, workflow):
    workflow.live(slug="early")
    client.get(URL)
    response = client.get(URL, HTTP_AUTHORIZATION="Api-Key something")
    assert not early(response) and response.status_code == 200


def test_a_page_kept_before_its_scheduled_change_is_not_replayed_with_a_proxy_lifetime_past_it(client, workflow, clock):
    """This process's copy of a page carries the Cache-Control it was first answered with. Kept an hour before a
    scheduled publication with s-maxage=300, replayed 100 s before it, it would let the proxy keep the old page for
    200 s past the publication. (The page stays the same throughout only within one day: its identity names it.)"""
    clock.keep_within_one_day(datetime.timedelta(hours=2))
    document = article_document(slug="kept-before")
    workflow.live(document)
    edited = changed(document, **{"revision.title": "Retitled", "revision.change_summary": "Retitled."})
    workflow.take_live(workflow.draft(edited), publish_at=timezone.now() + datetime.timedelta(hours=1))
    url = "/articles/kept-before/"
    kept = client.get(url)
    assert "s-maxage=300," in kept["Cache-Control"]
    clock.advance(datetime.timedelta(hours=1) - datetime.timedelta(seconds=100))
    for conditional in ({}, {"HTTP_IF_NONE_MATCH": kept["ETag"]}):
        with CaptureQueriesContext(connection) as queries:  # the full stack answers, still without a query
            again = client.get(url, **conditional)
        assert len(queries) == 0, [query["sql"] for query in queries]
        s_maxage = int(again["Cache-Control"].split("s-maxage=")[1].split(",")[0])
        assert s_maxage <= 100, again["Cache-Control"]
        assert "stale-while-revalidate=0" in again["Cache-Control"]
    home = client.get("/")  # a list: the next scheduled publication anywhere bounds it
    assert int(home["Cache-Control"].split("s-maxage=")[1].split(",")[0]) <= 100


@pytest.mark.parametrize("url", ["/articles/back-soon/", "/articles/back-soon/history/"])
def test_a_withdrawn_articles_410_is_kept_by_the_proxy_no_later_than_its_scheduled_republication(
    client, workflow, publisher, clock, url
):
    """Found from outside: withdrawn, then republished at a time 150 s ahead, the 410 said s-maxage=300 and
    stale-while-revalidate=30 while the home page said 148 and 0: a proxy would have told readers "withdrawn" for
    three minutes after the article was back. A 410 shows what is live as any page does, so the same time bounds it,
    whichever request answers it."""
    clock.keep_within_one_day(datetime.timedelta(minutes=5))
    document = article_document(slug="back-soon")
    live = workflow.live(document)
    services.revision_withdraw(revision=live, actor=publisher, reason="Under review.")
    edited = changed(document, **{"revision.title": "Back again", "revision.change_summary": "Back."})
    workflow.take_live(workflow.draft(edited), publish_at=timezone.now() + datetime.timedelta(seconds=150))
    for _ in range(2):  # the first answer, then a repeat
        gone = client.get(url)
        assert gone.status_code == 410
        assert gone[proxy.SURROGATE_HEADER] == proxy.article_key(live.article_id)
        assert 0 < int(gone["Cache-Control"].split("s-maxage=")[1].split(",")[0]) <= 150, gone["Cache-Control"]
        assert "stale-while-revalidate=0," in gone["Cache-Control"]
    clock.advance(datetime.timedelta(seconds=151))
    assert client.get(url).status_code == 200


def test_an_address_whose_first_publication_is_scheduled_is_a_404_no_proxy_keeps(client, workflow):
    """The 404 before a first publication's time is never offered to the proxy (no ``s-maxage``), so nothing kept
    outlives that time either."""
    workflow.take_live(workflow.draft(slug="not-yet"), publish_at=timezone.now() + datetime.timedelta(seconds=150))
    for url in ("/articles/not-yet/", "/articles/not-yet/history/"):
        missing = client.get(url)
        assert missing.status_code == 404
        assert "s-maxage" not in missing.get("Cache-Control", "") and proxy.SURROGATE_HEADER not in missing.headers


@pytest.mark.parametrize("url", [URL, f"{URL}history/"])
def test_a_page_that_names_the_day_is_modified_at_midnight_for_if_modified_since_too(client, workflow, clock, url):
    """Found from outside: an article's page says how long ago things happened, so its ETag names the day; its
    Last-Modified did not, so a client sending only If-Modified-Since was told 304 the next day, keeping "today"
    where the page now says "yesterday"."""
    workflow.live(slug="early")
    clock.settle()
    first = client.get(url)
    clock.advance(datetime.timedelta(days=1))
    again = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 200
    assert again["Last-Modified"] != first["Last-Modified"]
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=again["Last-Modified"]).status_code == 304


@pytest.mark.parametrize("url", [URL, f"{URL}history/", "/", "/sitemap-articles.xml"])
def test_if_modified_since_alone_is_never_answered_304_for_a_change_made_in_the_same_second(
    client, workflow, clock, url
):
    """A Last-Modified names whole seconds: a reader's cache holding a page and asking with If-Modified-Since alone
    was told 304 for a version published later in the same second (from the early copy and the full stack alike).
    A page is dated only once no later version can share its second."""
    clock.freeze()
    clock.keep_within_one_day(datetime.timedelta(minutes=5))
    live = workflow.live(slug="early")
    clock.advance(datetime.timedelta(milliseconds=200))
    first = client.get(url)
    assert client.get(url).status_code == 200  # kept for the early path, too
    clock.advance(datetime.timedelta(milliseconds=200))
    retitled(workflow, live, "Changed within the same second")
    clock.advance(datetime.timedelta(milliseconds=200))
    if "Last-Modified" in first:
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200
    clock.advance(datetime.timedelta(seconds=61))
    for _ in range(2):  # the full stack, then the early copy
        settled = client.get(url)
        assert settled["Last-Modified"]
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=settled["Last-Modified"]).status_code == 304


@pytest.mark.parametrize("url", ["/symptoms/no-such/", "/medicines/no-such/", "/sitemap-articles.xml?p={past_last}"])
@pytest.mark.parametrize("since", [False, True], ids=["if-none-match", "if-modified-since"])
def test_a_list_page_that_is_not_there_is_a_404_whatever_the_conditional_headers(client, workflow, clock, url, since):
    """Found from outside: with nothing kept, a conditional GET of a list page that is not there (an unknown symptom
    or medicine, a sitemap page past the last) was answered 304 before anything knew the page was not there; the
    early path kept that 304 and went on answering it after a plain GET had found the 404, and with Redis down every
    such request was a 304. A precondition is evaluated only when the answer would otherwise be a 2xx (RFC 9110,
    13.2.1)."""
    from articles.memo import forget_all
    from articles.sitemaps import SITEMAP_PAGE_SIZE

    live = workflow.live(slug="early", medication="earlymol")
    # A sitemap page is a range of ids: the first past the article's (ids are not reused when tests roll back).
    url = url.format(past_last=live.article_id // SITEMAP_PAGE_SIZE + 2)
    clock.settle()
    modified = client.get("/")["Last-Modified"]  # every list page's is the site's
    condition = {"HTTP_IF_MODIFIED_SINCE": modified} if since else {"HTTP_IF_NONE_MATCH": "*"}
    statuses = {"nothing kept": client.get(url, **condition).status_code}
    statuses["again"] = client.get(url, **condition).status_code
    statuses["plain"] = client.get(url).status_code
    statuses["after the plain GET"] = client.get(url, **condition).status_code
    forget_all()  # another process
    statuses["another process"] = client.get(url, **condition).status_code
    with override_settings(CACHES=redis_cache(f"redis://127.0.0.1:{free_port(REDIS_PORTS)}/0")):  # Redis down
        forget_all()
        statuses["Redis down"] = client.get(url, **condition).status_code
        statuses["Redis down, again"] = client.get(url, **condition).status_code
    assert statuses == dict.fromkeys(statuses, 404)


_ETAG = '"0123456789abcdef0123456789abcdef"'
_MODIFIED = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
_TAGS = st.sampled_from([_ETAG, f"W/{_ETAG}", '"other"', "*", f'"other", {_ETAG}', f"{_ETAG} ", "", "garbage", '""'])
_DATES = st.sampled_from(
    ["Sun, 01 Mar 2026 12:00:00 GMT", "Sun, 01 Mar 2026 11:59:59 GMT", "Mon, 02 Mar 2026 12:00:00 GMT", "nonsense", ""]
)


@settings(max_examples=400, deadline=None)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT"]),
    if_none_match=st.none() | _TAGS,
    if_match=st.none() | _TAGS,
    if_modified_since=st.none() | _DATES,
    if_unmodified_since=st.none() | _DATES,
    last_modified=st.none() | st.just(_MODIFIED),
)
def test_a_conditional_answer_is_djangos_whatever_the_headers(
    method, if_none_match, if_match, if_modified_since, if_unmodified_since, last_modified
):
    """``Validators.conditional_response`` answers the common revalidation without parsing; whatever the headers, its
    answer is the site's one rule (``contentsite.conditional``), which is Django's ``get_conditional_response`` but
    for the two malformed fields RFC 9110 reads otherwise (an If-Match that names no entity tag; If-Modified-Since
    beside any If-None-Match)."""
    headers = {
        "HTTP_IF_NONE_MATCH": if_none_match,
        "HTTP_IF_MATCH": if_match,
        "HTTP_IF_MODIFIED_SINCE": if_modified_since,
        "HTTP_IF_UNMODIFIED_SINCE": if_unmodified_since,
    }
    request = RequestFactory().generic(
        method, "/", **{name: value for name, value in headers.items() if value is not None}
    )
    validators = Validators(_ETAG, last_modified)
    ours = validators.conditional_response(request)
    django = get_conditional_response(request, etag=_ETAG, last_modified=validators.timestamp)
    rule = conditional_response(request, etag=_ETAG, last_modified=validators.timestamp)
    assert (ours and ours.status_code) == (rule and rule.status_code)
    if ours is not None:
        assert dict(ours.items()) == dict(rule.items())
    rfc_reads_otherwise = (if_match is not None and if_match.strip() in ("", "garbage")) or (
        if_none_match is not None and if_modified_since is not None
    )
    if not rfc_reads_otherwise:
        assert (rule and rule.status_code) == (django and django.status_code)


@pytest.mark.parametrize(
    "url", [URL, "/", "/sitemap.xml", "/search/?q=amlodipine", "/triage/", "/robots.txt", "/api/v1/schema/"]
)
@pytest.mark.parametrize(
    "condition",
    [
        {"HTTP_IF_MATCH": '"not-this-one"'},
        {"HTTP_IF_UNMODIFIED_SINCE": "Mon, 01 Jan 2001 00:00:00 GMT"},
        {"HTTP_IF_MATCH": '"not-this-one"', "HTTP_IF_NONE_MATCH": "{etag}"},
        {"HTTP_IF_NONE_MATCH": "{etag}"},
        {"HTTP_IF_NONE_MATCH": '"other", W/{etag}'},
        {"HTTP_IF_NONE_MATCH": "*"},
        {},
    ],
    ids=[
        "if-match",
        "if-unmodified-since",
        "if-match-before-if-none-match",
        "if-none-match",
        "weak-in-a-list",
        "star",
        "none",
    ],
)
def test_a_head_is_answered_as_the_get_would_be_preconditions_included(client, workflow, clock, url, condition):
    """Found from outside (gunicorn, production settings): a HEAD whose If-Match or If-Unmodified-Since failed was
    answered 200 where the GET was refused 412 (every public page, 2 of 2 tries each), and the search, the pathway list,
    robots.txt and the API's schema answered a HEAD with no ETag, and so never 304 (RFC 9110, 9.3.2: a HEAD's answer
    is the GET's without the content). Django's ConditionalGetMiddleware looked at GETs only."""
    workflow.live(slug="early")
    clock.settle()
    etag = client.get(url)["ETag"]
    headers = {name: value.replace("{etag}", etag) for name, value in condition.items()}
    for attempt in ("first", "kept"):
        got, head = client.get(url, **headers), client.head(url, **headers)
        assert (attempt, head.status_code, head.get("ETag")) == (attempt, got.status_code, got.get("ETag"))
        assert head.content == b""


@pytest.mark.parametrize("url", [URL, "/", "/search/?q=amlodipine", "/robots.txt"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_malformed_conditional_fields_are_read_as_rfc_9110_reads_them(client, workflow, clock, url, method):
    """Found from outside (gunicorn, production settings): ``If-Match: garbage`` (neither "*" nor a list of entity
    tags) was answered 200 on every page and API address (112 of 112 GETs and HEADs), where RFC 9110 (13.1.1) says
    the condition is then false: 412. And an If-None-Match naming no entity tag beside an If-Modified-Since of the
    page's Last-Modified was a 304 where the RFC ignores If-Modified-Since whenever If-None-Match is sent (13.1.3):
    the page, as Varnish answers it."""
    workflow.live(slug="early")
    clock.settle()
    page = client.get(url)
    since = {"HTTP_IF_MODIFIED_SINCE": page["Last-Modified"]} if page.has_header("Last-Modified") else {}
    for attempt in ("first", "kept"):
        for if_match in ("garbage", page["ETag"].strip('"'), ""):
            refused = client.generic(method, url, HTTP_IF_MATCH=if_match)
            assert (attempt, if_match, refused.status_code) == (attempt, if_match, 412)
        for if_none_match in ("garbage", page["ETag"].strip('"')):
            answered = client.generic(method, url, HTTP_IF_NONE_MATCH=if_none_match, **since)
            assert (attempt, if_none_match, answered.status_code) == (attempt, if_none_match, 200)
        assert client.generic(method, url, HTTP_IF_MATCH=f"garbage, {page['ETag']}").status_code == 200
