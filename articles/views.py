"""Public pages: what is live comes from ``articles.live``; lists come from ``Revision.objects.published()``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from contentsite import proxy

from . import search as search_index
from .live import Live, cache_get, cache_set, live_identity
from .models import ArticleKind, AuditEntry, Revision, Withdrawn
from .presentation import build_article_page, vocabulary_change
from .structured_data import canonical_url, json_ld_script, medical_web_page

SEARCH_MAX_LENGTH = 200
# Bump when the page's markup changes in a way cached copies must not outlive.
PAGE_CACHE_VERSION = 1


def home(request: HttpRequest) -> HttpResponse:
    """Published articles, grouped by medication."""
    revisions = (
        Revision.objects.published()
        .articles()
        .select_related("article__medication")
        .order_by("article__medication__generic_name", "title", "pk")
    )
    return _revalidate(render(request, "articles/home.html", {"revisions": revisions}))


def search(request: HttpRequest) -> HttpResponse:
    """Live articles matching the reader's words, best first, from the full-text index (``articles.search``).

    Pages of ``PAGE_SIZE`` up to ``MAX_RESULTS``, with no count of every match:
    two queries whatever the number of articles.
    """
    query = request.GET.get("q", "").strip()
    error = ""
    ranked: list[int] = []
    if len(query) > SEARCH_MAX_LENGTH:
        error = f"Please use at most {SEARCH_MAX_LENGTH} characters."
    elif query:
        ranked = search_index.search(query, kind=ArticleKind.ARTICLE)
    page = Paginator(ranked[: search_index.MAX_RESULTS], search_index.PAGE_SIZE).get_page(request.GET.get("page"))
    found = Revision.objects.published().select_related("article__medication").in_bulk(page.object_list)
    context = {
        "query": query,
        "page": page,
        "results": [found[pk] for pk in page.object_list if pk in found],
        "more": len(ranked) > search_index.MAX_RESULTS,
        "error": error,
    }
    return render(request, "articles/search.html", context, status=400 if error else 200)


def _revalidate(response: HttpResponse) -> HttpResponse:
    # Caches may keep a copy but must check it on every request, so a publish or
    # a withdrawal is visible on the very next request (ETag makes that cheap).
    patch_cache_control(response, public=True, no_cache=True)
    return response


PageBuilder = Callable[[Live], tuple[str, Iterable[str]]]


def _live_page(request: HttpRequest, slug: str, name: str, build: PageBuilder) -> HttpResponse:
    """A page about what is live at ``slug``, answered from its live identity before anything is rendered.

    The identity (``articles.live``) comes from one cache read; the ETag and
    Last-Modified follow from it, so a matching conditional request is a 304
    without a query, and the rendered page is cached under that ETag, so a repeat
    is one more cache read. A publish, withdrawal, review or vocabulary change
    moves the identity: the very next request renders the new page.
    """
    live = live_identity(slug, kind=ArticleKind.ARTICLE)
    try:
        live.require()
    except Withdrawn:
        response = render(request, "articles/withdrawn.html", status=410)
        response.surrogate_keys = live.surrogate_keys
        return _revalidate(response)
    # Pages say how long ago things happened, so they are dated too.
    etag = live.etag(name, PAGE_CACHE_VERSION, timezone.localdate().isoformat())
    headers = {"ETag": etag}
    if live.last_modified:
        headers["Last-Modified"] = http_date(live.last_modified.timestamp())
    key = f"page:{name}:{etag}"
    not_modified = get_conditional_response(request, etag=etag, last_modified=_timestamp(live))
    if not_modified is not None:
        response, keys = not_modified, (cache_get(key) or ("", live.surrogate_keys))[1]
    else:
        page = cache_get(key)
        if page is None:
            page = build(live)
            cache_set(key, page, settings.ARTICLE_PAGE_CACHE_SECONDS)
        html, keys = page
        response = HttpResponse(html)
    for header, value in headers.items():
        response[header] = value
    response.surrogate_keys = tuple(keys)
    return _revalidate(response)


def _timestamp(live: Live) -> int | None:
    return int(live.last_modified.timestamp()) if live.last_modified else None


def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The live revision of one article, with everything a reader needs on one page."""
    return _live_page(request, slug, "article", lambda live: _render_article(request, live))


def _render_article(request: HttpRequest, live: Live) -> tuple[str, tuple[str, ...]]:
    revision = (
        Revision.objects.with_content()
        .with_review()
        .annotate(first_published_at=Min("article__revisions__published_at"))
        .get(pk=live.revision_id)
    )
    context = {
        "page": build_article_page(revision),
        "canonical_url": canonical_url(revision),
        "json_ld": json_ld_script(medical_web_page(revision)),
    }
    keys = (
        *live.surrogate_keys,
        proxy.medication_key(revision.article.medication_id),
        *(proxy.symptom_key(entry.symptom_id) for entry in revision.symptom_entries.all()),
    )
    return render_to_string("articles/article_detail.html", context, request), tuple(dict.fromkeys(keys))


def article_history(request: HttpRequest, slug: str) -> HttpResponse:
    """The published revisions of a live article, newest first, with their change summaries.

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
    keys = (*live.surrogate_keys, proxy.medication_key(revisions[0].article.medication_id))
    return render_to_string("articles/article_history.html", context, request), keys


def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /admin/", f"Sitemap: {settings.PUBLIC_BASE_URL}/sitemap.xml", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
