"""Public pages: what is live comes from ``articles.live``; lists come from ``Revision.objects.published()``.

Lists (home, a medicine's articles, the sitemap) are answered from ``site_identity()``
first and cost the same few queries on a miss at any size of library.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language

from contentsite import proxy
from contentsite.cache import take_prefetched
from contentsite.early import Validators, answered_early
from contentsite.methods import allow_get
from contentsite.numbers import whole_number
from contentsite.releases import code_release, static_files_release, static_files_released_at

from . import search as search_index
from .feeds import ChangesFeed
from .kinds import linked_from_articles, reader_lists
from .live import (
    Live,
    StoredHTML,
    cache_get,
    cache_set,
    identity_cache_keys,
    live_identity,
    site_identity,
    site_identity_cache_keys,
    stored_page_key,
)
from .memo import BoundedMemo
from .models import ArticleKind, AuditEntry, LiveTally, Medication, Revision, Symptom, Withdrawn
from .models.pages import page_holds
from .presentation import linked_html, load_article_page, review_panel_html, vocabulary_change
from .sitemaps import sitemaps
from .structured_data import canonical_url
from .text import normalise_query

SEARCH_MAX_LENGTH = 200
# The home page lists groups, not articles: this many topics and latest changes.
HOME_TOPICS = 30
HOME_RECENT = 10
MEDICINE_PAGE_SIZE = 50
SYMPTOM_PAGE_SIZE = 50
# Symptom pages a search that found nothing suggests, A to Z.
ZERO_RESULT_SYMPTOMS = 12
# Far beyond any library (10,000 ids a page): refuses absurd page numbers before any work.
MAX_SITEMAP_PAGE = 100_000
_CURSOR = re.compile(r"[-a-zA-Z0-9_]{1,120}")
_XML = "application/xml; charset=utf-8"
_ATOM = "application/atom+xml; charset=utf-8"
# Bump when the page's markup changes in a way cached copies must not outlive.
PAGE_CACHE_VERSION = 2


def _page_version() -> tuple[object, ...]:
    """What every page's ETag names besides its content: its markup's version and the release of the static files
    it links to (``contentsite.releases``)."""
    return (PAGE_CACHE_VERSION, static_files_release())


def stored_page_format() -> str:
    """What a stored article page (``StoredPage``) must have been rendered with to be served: the page's markup
    version, the static files' release it links to, the code's release (``contentsite.releases.code_release``: a
    page kept in the database outlives releases, which may change it without a new markup version), and the
    language."""
    return ":".join(str(part) for part in (*_page_version(), code_release(), get_language()))


def _page_modified(modified: datetime.datetime | None, *since: datetime.datetime) -> datetime.datetime | None:
    """A page's Last-Modified: its content's, or later (``since``, and the release of the static files it links to,
    for a client that revalidates by date alone); None where its content has none."""
    if modified is None:
        return None
    released = static_files_released_at()
    return max((modified, *since, *((released,) if released is not None else ())))


def _site_reads(**url_kwargs: str) -> tuple[str, ...]:
    """What a page listing many articles reads first from the cache (its validators' ``site_identity()``)."""
    return site_identity_cache_keys()


def _article_reads(slug: str) -> tuple[str, ...]:
    """What an article's page reads first from the cache (its validators' ``live_identity``)."""
    return identity_cache_keys(slug, kind=ArticleKind.ARTICLE)


def _home_validators(request: HttpRequest) -> Validators:
    return _site_validators("home", ())


@allow_get
@answered_early(_home_validators, reads=_site_reads)
def home(request: HttpRequest) -> HttpResponse:
    """An A to Z of medicines and the topics written about, with counts, and the latest changes.

    Costs the same at 100 and 100,000 articles: on a miss it reads the live tallies
    (counts kept by the writers, see ``LiveTally``), not the articles, and one
    short list; and it is answered from the site's identity first: a 304, or the
    page cached under the site's ETag.
    """
    return _site_page(request, _home_validators(request), lambda: _render_home(request))


def _render_home(request: HttpRequest) -> SitePage:
    counts = LiveTally.objects.count_by_medication(ArticleKind.ARTICLE)
    medicines = [
        {"slug": slug, "generic_name": name, "count": counts[pk]}
        for pk, slug, name in Medication.objects.filter(pk__in=counts)
        .order_by("generic_name")
        .values_list("pk", "slug", "generic_name")
    ]
    context = {
        "letters": _by_initial(medicines),
        "medicine_count": len(medicines),
        "article_count": sum(row["count"] for row in medicines),
        "topics": LiveTally.objects.count_by_topic(ArticleKind.ARTICLE)[:HOME_TOPICS],
        # Only articles' ids are read: no filter on the kind (which SQLite would walk every article of).
        "recent": list(Revision.objects.published().recently_updated(ArticleKind.ARTICLE, limit=HOME_RECENT)),
    }
    return 200, render_to_string("articles/home.html", context, request), (proxy.INDEX_KEY,)


def _by_initial(medicines: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Medicines grouped under their initial letter (``#`` for any other first character), A to Z."""
    letters: dict[str, list[dict[str, Any]]] = {}
    for medicine in medicines:
        initial = medicine["generic_name"][:1].upper()
        letters.setdefault(initial if "A" <= initial <= "Z" else "#", []).append(medicine)
    return sorted(letters.items())


def _medicine_cursors(request: HttpRequest) -> tuple[str, str]:
    return request.GET.get("after", ""), request.GET.get("before", "")


def _medicine_validators(request: HttpRequest, slug: str) -> Validators | None:
    after, before = _medicine_cursors(request)
    if any(cursor and not _CURSOR.fullmatch(cursor) for cursor in (after, before)):
        return None
    return _site_validators("medicine", (slug, after, before))


@allow_get
@answered_early(_medicine_validators, reads=_site_reads)
def medicine(request: HttpRequest, slug: str) -> HttpResponse:
    """The live articles about one medicine, A to Z by address, a page at a time.

    Pages follow a keyset cursor (``?after=`` the last slug shown, ``?before=``
    the first), never an offset, so the last page costs what the first does.
    """
    validators = _medicine_validators(request, slug)
    if validators is None:
        raise Http404("No such page.")
    after, before = _medicine_cursors(request)
    return _site_page(
        request,
        validators,
        lambda: _render_medicine(request, slug, after, before),
        exists=lambda: _listed(Medication, slug, paging=bool(after or before)) is not None,
        shared=not (after or before),
    )


def _render_medicine(request: HttpRequest, slug: str, after: str, before: str) -> SitePage:
    medication = _listed(Medication, slug, paging=bool(after or before))
    if medication is None:
        return NOT_FOUND
    rows = list(
        Revision.objects.published()
        .articles()
        .of_medication_after(medication.pk, after=after, before=before)
        .select_related("article")[: MEDICINE_PAGE_SIZE + 1]
    )
    more, rows = len(rows) > MEDICINE_PAGE_SIZE, rows[:MEDICINE_PAGE_SIZE]
    if before:
        rows.reverse()
    context = {
        "medication": medication,
        "revisions": rows,
        "first_page": not (after or before),
        "previous": rows[0].article.slug if rows and (more if before else after) else "",
        "next": rows[-1].article.slug if rows and (before or more) else "",
    }
    keys = (proxy.INDEX_KEY, proxy.medication_key(medication.pk))
    return 200, render_to_string("articles/medicine.html", context, request), keys


def _sitemap_index_validators(request: HttpRequest) -> Validators:
    return _site_validators("sitemap-index", ())


@allow_get
@answered_early(_sitemap_index_validators, reads=_site_reads)
def sitemap_index(request: HttpRequest) -> HttpResponse:
    """``/sitemap.xml``: every page of every section (see ``articles.sitemaps``): a query per section on a miss."""
    return _site_page(request, _sitemap_index_validators(request), _render_sitemap_index, content_type=_XML)


def _render_sitemap_index() -> SitePage:
    locations = []
    for name, section in sitemaps().items():
        path = reverse("sitemap-section", kwargs={"section": name})
        for number in range(1, section().num_pages() + 1):
            locations.append(f"{settings.PUBLIC_BASE_URL}{path}" + (f"?p={number}" if number > 1 else ""))
    lines = [f"  <sitemap><loc>{escape(location)}</loc></sitemap>" for location in locations]
    return 200, _xml("sitemapindex", lines), (proxy.INDEX_KEY,)


def _sitemap_number(request: HttpRequest, section: str) -> int | None:
    number = whole_number(request.GET.get("p", "1"))
    if section not in sitemaps() or number is None or not 1 <= number <= MAX_SITEMAP_PAGE:
        return None
    return number


def _sitemap_section_validators(request: HttpRequest, section: str) -> Validators | None:
    number = _sitemap_number(request, section)
    return _site_validators("sitemap", (section, number)) if number is not None else None


@allow_get
@answered_early(_sitemap_section_validators, reads=_site_reads)
def sitemap_section(request: HttpRequest, section: str) -> HttpResponse:
    """One page (``?p=``, from 1) of one sitemap section: one indexed range of ids on a miss."""
    validators, number = _sitemap_section_validators(request, section), _sitemap_number(request, section)
    if validators is None or number is None:
        raise Http404("No such sitemap.")
    return _site_page(
        request,
        validators,
        lambda: _render_sitemap(section, number),
        content_type=_XML,
        exists=lambda: _sitemap_page_exists(section, number),
    )


def _sitemap_page_exists(name: str, number: int) -> bool:
    """Whether section ``name`` has a page ``number``: up to its last (one index lookup, ``num_pages``)."""
    return number <= sitemaps()[name]().num_pages()


def _render_sitemap(name: str, number: int) -> SitePage:
    if not _sitemap_page_exists(name, number):
        return NOT_FOUND
    lines = []
    for path, lastmod in sitemaps()[name]().page(number):
        entry = f"<loc>{escape(settings.PUBLIC_BASE_URL + path)}</loc>"
        if lastmod:
            entry += f"<lastmod>{lastmod.astimezone(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</lastmod>"
        lines.append(f"  <url>{entry}</url>")
    return 200, _xml("urlset", lines), (proxy.INDEX_KEY,)


def _changes_feed_validators(request: HttpRequest) -> Validators:
    return _site_validators("changes-feed", ())


@allow_get
@answered_early(_changes_feed_validators, reads=_site_reads)
def changes_feed(request: HttpRequest) -> HttpResponse:
    """``/feeds/changes.atom``: the latest publications, updates and withdrawals (``articles.feeds``).

    A page that lists many articles like the others: answered from the site's
    identity, so any publish or withdrawal changes it on the very next request,
    and a miss costs the same few queries at any size of library.
    """
    validators = _changes_feed_validators(request)
    return _site_page(request, validators, lambda: _render_changes_feed(request), content_type=_ATOM)


def _render_changes_feed(request: HttpRequest) -> SitePage:
    feed = ChangesFeed().get_feed(None, request)
    return 200, feed.writeString("utf-8"), (proxy.INDEX_KEY,)


def _xml(root: str, lines: list[str]) -> str:
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
            *lines,
            f"</{root}>",
            "",
        ]
    )


# (status, body, surrogate keys): what a list page caches under the site's ETag.
SitePage = tuple[int, str, tuple[str, ...]]
NOT_FOUND: SitePage = (404, "", ())
# A vocabulary entry with a page of the live articles showing it.
Listed = TypeVar("Listed", Medication, Symptom)


def _listed(model: type[Listed], slug: str, *, paging: bool) -> Listed | None:
    """The medication or symptom whose page of articles is at ``slug``; None: there is no such page (a 404).

    Its first page is there while live articles show it (``with_live_articles``), a later one (``paging``: a
    cursor) while the entry exists. The page is rendered from this, and its 304 asks it first (``_site_page``).
    """
    entries = model.objects.filter(slug=slug)
    return (entries if paging else entries.with_live_articles()).first()


def _site_validators(name: str, salt: tuple[object, ...]) -> Validators:
    """The ETag and Last-Modified of a page listing many articles: from ``site_identity()``, one cache read."""
    site = site_identity()
    return Validators(site.etag(name, *_page_version(), *salt), _page_modified(site.last_modified), site.expires_at)


def _site_page(
    request: HttpRequest,
    validators: Validators,
    build: Callable[[], SitePage],
    content_type: str = "text/html; charset=utf-8",
    *,
    exists: Callable[[], bool] | None = None,
    shared: bool = True,
) -> HttpResponse:
    """A page that lists many articles, answered from the site's identity before anything is rendered.

    ``site_identity()`` moves with any public change anywhere, so its ETag
    answers a matching conditional request with a 304 and keys the rendered page
    in the cache: a repeat costs no query. A page found not to exist (``build``
    answers 404) is cached as such, too.

    ``exists``: for a page that may not be there (a medicine's, a symptom's, a sitemap's page), whether it is, by
    the rule ``build`` follows but without rendering (one small query). With nothing cached, it is asked before a
    304: a page that is not there is a 404 whatever the request's conditions (RFC 9110, 13.2.1), so no 304 is ever
    answered, or kept by ``contentsite.early``, for it, with the cache up or down.

    ``shared=False``: a page a reader's query chooses without bound (after a cursor of their own) is neither read
    from nor put in the shared cache, which made-up cursors would otherwise fill; each process keeps what it answered
    (``contentsite.early``, a bounded memo) and the proxy keeps it by its address.
    """
    key = f"page:{validators.etag}"
    page = cache_get(key) if shared else None
    unchanged = validators.not_modified(request)
    if page is None and unchanged and exists is not None and not exists():
        page = NOT_FOUND
        if shared:
            cache_set(key, page, settings.ARTICLE_PAGE_CACHE_SECONDS)
    if (page is None or page[0] == 200) and unchanged:
        not_modified = HttpResponseNotModified()
        not_modified.surrogate_keys = tuple(page[2]) if page else (proxy.INDEX_KEY,)
        return _validated(not_modified, validators)
    if page is None:
        page = build()
        if shared:
            cache_set(key, page, settings.ARTICLE_PAGE_CACHE_SECONDS)
    status, body, keys = page
    if status == 404:
        raise Http404("Nothing is published at this address.")
    response = HttpResponse(body, content_type=content_type)
    response.surrogate_keys = tuple(keys)
    return _validated(response, validators)


def _validated(response: HttpResponse, validators: Validators) -> HttpResponse:
    response["ETag"] = validators.etag
    # The proxy keeps the page no longer than until a scheduled publication changes it (``proxy.tag``).
    setattr(response, proxy.PROXY_UNTIL_ATTRIBUTE, validators.expires_at)
    last_modified = validators.last_modified_header
    if last_modified is not None:
        response["Last-Modified"] = last_modified
    return _revalidate(response)


@allow_get
def search(request: HttpRequest) -> HttpResponse:
    """Live articles matching the reader's words, best first, from the full-text index (``articles.search``).

    Pages of ``PAGE_SIZE`` up to ``MAX_RESULTS``, with no count of every match,
    each result with a snippet of its text, the reader's words marked. When
    nothing matches: the results of a close query that does ("Showing results
    for …", see ``articles.search.suggest``); when none does either, where else
    to look (symptom pages, the symptom checks, the A to Z of medicines). A fixed number of queries
    whatever the number of articles.
    """
    # In the form the index holds (NFC): a word typed with a combining accent is the same word.
    query = normalise_query(request.GET.get("q", ""))
    error = suggestion = ""
    ranked: list[int] = []
    if len(query) > SEARCH_MAX_LENGTH:
        error = f"Please use at most {SEARCH_MAX_LENGTH} characters."
        query = query[:SEARCH_MAX_LENGTH]  # what the box (and its maxlength) lets the reader send again
    elif query:
        ranked = search_index.search(query, kind=ArticleKind.ARTICLE)
        if not ranked:
            # A misspelling ("amlodopine"): the close query's results at once, saying so ("Showing results for").
            suggestion, ranked = search_index.suggest(query, kind=ArticleKind.ARTICLE)
    page = Paginator(ranked[: search_index.MAX_RESULTS], search_index.PAGE_SIZE).get_page(request.GET.get("page"))
    results = []
    if page.object_list:
        found = Revision.objects.published().select_related("article__medication").in_bulk(page.object_list)
        texts = search_index.entry_texts(page.object_list)
        results = [
            (found[pk], search_index.snippet((found[pk].summary, *texts.get(pk, ())), suggestion or query))
            for pk in page.object_list
            if pk in found
        ]
    context = {
        "query": query,
        "page": page,
        "results": results,
        "more": len(ranked) > search_index.MAX_RESULTS,
        "error": error,
        "suggestion": suggestion,
        "max_length": SEARCH_MAX_LENGTH,
        "reader_lists": reader_lists(),
        "symptoms": _zero_result_symptoms() if query and not ranked and not error else [],
    }
    return render(request, "articles/search.html", context, status=400 if error else 200)


def _zero_result_symptoms() -> list[dict[str, str]]:
    """The symptom pages a search that found nothing offers: the same for every such search until anything
    public changes, so kept under the site's identity (one cache read) rather than asked each time."""
    key = f"search:symptoms:{site_identity().etag('zero-result-symptoms', PAGE_CACHE_VERSION)}"
    symptoms = cache_get(key)
    if symptoms is None:
        symptoms = list(
            Symptom.objects.with_live_articles().order_by("name").values("slug", "name")[:ZERO_RESULT_SYMPTOMS]
        )
        cache_set(key, symptoms, settings.ARTICLE_PAGE_CACHE_SECONDS)
    return symptoms


def _symptom_after(request: HttpRequest) -> str:
    return request.GET.get("after", "")


def _symptom_validators(request: HttpRequest, slug: str) -> Validators | None:
    after = _symptom_after(request)
    if after and not _CURSOR.fullmatch(after):
        return None
    return _site_validators("symptom", (slug, after))


@allow_get
@answered_early(_symptom_validators, reads=_site_reads)
def symptom(request: HttpRequest, slug: str) -> HttpResponse:
    """The live articles that mention one symptom, A to Z by address, a page at a time (``?after=`` a slug).

    A list page like a medicine's: answered from the site's identity (any
    publish, withdrawal or vocabulary change moves it), a 404 for a symptom no
    live article shows.
    """
    validators = _symptom_validators(request, slug)
    if validators is None:
        raise Http404("No such page.")
    after = _symptom_after(request)
    return _site_page(
        request,
        validators,
        lambda: _render_symptom(request, slug, after),
        exists=lambda: _listed(Symptom, slug, paging=bool(after)) is not None,
        shared=not after,
    )


def _render_symptom(request: HttpRequest, slug: str, after: str) -> SitePage:
    symptom = _listed(Symptom, slug, paging=bool(after))
    if symptom is None:
        return NOT_FOUND
    rows = list(
        Revision.objects.published()
        .articles()
        .mentioning_after(symptom.pk, after=after)
        .select_related("article__medication")[: SYMPTOM_PAGE_SIZE + 1]
    )
    more, rows = len(rows) > SYMPTOM_PAGE_SIZE, rows[:SYMPTOM_PAGE_SIZE]
    context = {
        "symptom": symptom,
        "revisions": rows,
        "first_page": not after,
        "next": rows[-1].article.slug if more else "",
        "reader_lists": reader_lists(),
    }
    keys = (proxy.INDEX_KEY, proxy.symptom_key(symptom.pk))
    return 200, render_to_string("articles/symptom.html", context, request), keys


def _revalidate(response: HttpResponse) -> HttpResponse:
    # Caches may keep a copy but must check it on every request, so a publish or
    # a withdrawal is visible on the very next request (ETag makes that cheap).
    patch_cache_control(response, public=True, no_cache=True)
    return response


PageBuilder = Callable[[Live], tuple[str, Iterable[str]]]
# Rendered pages by ETag, per process, in front of the shared cache: a page under an ETag
# never changes, so a hot page costs one cache read (what is live) and no more.
PAGE_MEMO_CHARS = 32_000_000
_pages = BoundedMemo(PAGE_MEMO_CHARS)


def _live_validators(live: Live, name: str) -> Validators:
    # Pages say how long ago things happened, so they are dated too: the ETag names the day, and the page is modified
    # at midnight at the latest, for a client that asks with If-Modified-Since alone.
    today = timezone.localdate()
    midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    modified = _page_modified(live.last_modified, midnight)
    return Validators(live.etag(name, *_page_version(), today.isoformat()), modified, live.expires_at)


def _article_validators(request: HttpRequest, slug: str, name: str) -> Validators | None:
    """The validators of an article's page ``name`` when it is live (one cache read); else None."""
    live = live_identity(slug, kind=ArticleKind.ARTICLE)
    return _live_validators(live, name) if live.is_live else None


def _live_page(request: HttpRequest, slug: str, name: str, build: PageBuilder) -> HttpResponse:
    """A page about what is live at ``slug``, answered from its live identity before anything is rendered.

    The identity (``articles.live``) comes from one cache read; the ETag and
    Last-Modified follow from it, so a matching conditional request is a 304
    without a query, and the rendered page is cached under that ETag (in the
    process, then the shared cache), so a repeat costs no more. A publish, withdrawal, review or vocabulary change
    moves the identity: the very next request renders the new page. (A reader
    without a session is usually answered before this, by
    ``contentsite.early.EarlyAnswerMiddleware`` with the same validators.)
    """
    live = live_identity(slug, kind=ArticleKind.ARTICLE)
    try:
        live.require()
    except Withdrawn:
        response = render(request, "articles/withdrawn.html", status=410)
        response.surrogate_keys = live.surrogate_keys
        # Gone until a scheduled republication's time, when this address is live again with no purge: the proxy
        # keeps the 410 no later, as it does any page (``_validated``).
        setattr(response, proxy.PROXY_UNTIL_ATTRIBUTE, live.expires_at)
        return _revalidate(response)
    validators = _live_validators(live, name)
    key = f"page:{name}:{validators.etag}"
    not_modified = validators.not_modified(request)
    page = _pages.get(key) or cache_get(key)
    if page is None and not not_modified:
        page = _stored_page(live, name) or build(live)
        cache_set(key, page, settings.ARTICLE_PAGE_CACHE_SECONDS)
    if page is not None:
        _pages.put(key, page, len(page[0]))
    response = HttpResponseNotModified() if not_modified else HttpResponse(page[0])
    # A 304 carries the page's surrogate keys too, whatever is cached: the proxy keeps the headers it revalidated.
    response.surrogate_keys = live.page_keys
    return _validated(response, validators)


def _stored_page(live: Live, name: str) -> tuple[str, tuple[str, ...]] | None:
    """The article page stored for ``live`` (``StoredPage``) that its identity's work-out read in this request
    (``articles.live``), if it is still the page (``articles.models.pages.page_holds``); else None (render it)."""
    if name != "article":
        return None
    stored = take_prefetched(stored_page_key(live))
    if not isinstance(stored, StoredHTML):
        return None
    now = timezone.now()
    if not page_holds(
        stored.page_format, stored.changes_at, stored.stored_at, current_format=stored_page_format(), now=now
    ):
        return None
    return stored.html, live.page_keys


@allow_get
@answered_early(functools.partial(_article_validators, name="article"), reads=_article_reads)
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The live revision of one article, with everything a reader needs on one page."""
    return _live_page(request, slug, "article", lambda live: _render_article(request, live))


def _render_article(request: HttpRequest, live: Live) -> tuple[str, tuple[str, ...]]:
    return article_page_html(request, live)[0], live.page_keys


def article_page_html(request: HttpRequest, live: Live) -> tuple[str, datetime.datetime | None]:
    """The article page of what is live (``live``), and the moment it changes with no change to the article, if any:
    when its review falls overdue. Every reader is shown the same page (the page caches and ``StoredPage`` keep it
    by what is live alone): ``request`` is only the template's."""
    page = load_article_page(live.revision_id)
    review = page.revision.current_review
    context = {
        "page": page,
        "canonical_url": canonical_url(page.revision),
        "json_ld": page.json_ld,
        "review_panel": review_panel_html(page.revision),
        "linked_html": linked_html(_linked_by_symptoms(page.symptom_ids)),
    }
    changes_at = review.overdue_from if review is not None and not review.is_overdue else None
    return render_to_string("articles/article_detail.html", context, request), changes_at


def _linked_by_symptoms(symptom_ids: tuple[int, ...]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Live content of other kinds about the article's symptoms, as (address, title) under each kind's heading: one
    query, or none.

    Which kinds, and their headings, come from ``articles.kinds``. A change to what is live of
    such content stamps the articles sharing its symptoms (``services``), so this page, cached
    under their live identity, is rendered afresh on the next request.
    """
    kinds = linked_from_articles()
    if not kinds or not symptom_ids:
        return []
    rows = list(
        Revision.objects.published()
        .linked_to_by_symptoms(symptom_ids, kinds=[kind.name for kind in kinds])
        .values_list("article__kind", "article__slug", "title")
    )
    grouped = [
        (
            kind.article_links_heading,
            [
                (reverse(kind.url_name, kwargs={"slug": slug}), title)
                for of_kind, slug, title in rows
                if of_kind == kind.name
            ],
        )
        for kind in kinds
    ]
    return [(heading, links) for heading, links in grouped if links]


@allow_get
@answered_early(functools.partial(_article_validators, name="history"), reads=_article_reads)
def article_history(request: HttpRequest, slug: str) -> HttpResponse:
    """The published revisions of a live article, newest first, with their change summaries and when any was
    withdrawn (the article was off the site until the next one was published).

    Below them, changes to the medication and symptom details the article shows
    since it was first published: those are outside the revisions, so readers
    learn of them here.
    """
    return _live_page(request, slug, "history", lambda live: _render_history(request, live))


def _render_history(request: HttpRequest, live: Live) -> tuple[str, tuple[str, ...]]:
    revisions = list(
        Revision.objects.ever_published()
        .articles()
        .filter(article_id=live.article_id)
        .select_related("article__medication")
        .with_review()
        .with_withdrawal()
        .order_by("-number")
    )
    first_live = min(revision.live_from for revision in revisions)
    changes = AuditEntry.objects.vocabulary_changes().filter(article_id=live.article_id, created_at__gte=first_live)
    context = {
        "article": revisions[0].article,
        "revisions": revisions,
        "live": next(revision for revision in revisions if revision.pk == live.revision_id),
        "vocabulary_changes": [vocabulary_change(entry) for entry in changes.order_by("-created_at", "-pk")],
    }
    return render_to_string("articles/article_history.html", context, request), live.page_keys


@allow_get
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /admin/", f"Sitemap: {settings.PUBLIC_BASE_URL}/sitemap.xml", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
