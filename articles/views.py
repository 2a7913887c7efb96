"""Public pages. They reach content only through ``Revision.objects.published()`` and ``get_live()``."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Min, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_cache_control

from .models import ArticleKind, AuditEntry, ClinicalReview, Revision, Withdrawn
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
    """Search published articles by title, summary, topic and medication names."""
    query = request.GET.get("q", "").strip()
    error = ""
    results = Revision.objects.none()
    if len(query) > SEARCH_MAX_LENGTH:
        error = f"Please use at most {SEARCH_MAX_LENGTH} characters."
    elif query:
        results = (
            Revision.objects.published()
            .articles()
            .select_related("article__medication")
            .filter(
                Q(title__icontains=query)
                | Q(summary__icontains=query)
                | Q(topic__icontains=query)
                | Q(article__medication__generic_name__icontains=query)
                | Q(article__medication__brand_names__icontains=query)
            )
            .order_by("title", "pk")
        )
    page = Paginator(results, 20).get_page(request.GET.get("page"))
    status = 400 if error else 200
    return render(request, "articles/search.html", {"query": query, "page": page, "error": error}, status=status)


def _live_revision(slug: str) -> Revision:
    """The article's live revision, or ``Withdrawn`` (410 Gone), or ``Http404``."""
    latest_review = ClinicalReview.objects.filter(revision=OuterRef("pk")).order_by("-reviewed_at", "-pk")
    return (
        Revision.objects.annotate(review_id=Subquery(latest_review.values("pk")[:1]))
        .with_vocabulary_updated_at()
        .get_live(slug, kind=ArticleKind.ARTICLE)
    )


def _revalidate(response: HttpResponse) -> HttpResponse:
    # Caches may keep a copy but must check it on every request, so a publish or
    # a withdrawal is visible on the very next request (ETag makes that cheap).
    patch_cache_control(response, public=True, no_cache=True)
    return response


def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The live revision of one article, with everything a reader needs on one page.

    The rendered page is cached under the identity of what it shows (revision,
    content hash, latest review, and the last change to the medication and
    symptoms it shows, which live outside the revision), so the cache can never
    serve a superseded revision or stale vocabulary: a publish, withdrawal,
    review or vocabulary change changes the key.
    """
    try:
        live = _live_revision(slug)
    except Withdrawn:
        return render(request, "articles/withdrawn.html", status=410)
    today = timezone.localdate()
    vocabulary = live.vocabulary_updated_at.isoformat()
    identity = f"{PAGE_CACHE_VERSION}:{live.pk}:{live.state}:{live.content_hash}:{live.review_id}:{vocabulary}:{today}"
    key = f"article-page:{slug}:{identity}"
    html = cache.get(key)
    if html is None:
        revision = (
            Revision.objects.with_content()
            .with_review()
            .annotate(first_published_at=Min("article__revisions__published_at"))
            .get(pk=live.pk)
        )
        context = {
            "page": build_article_page(revision),
            "canonical_url": canonical_url(revision),
            "json_ld": json_ld_script(medical_web_page(revision)),
        }
        html = render_to_string("articles/article_detail.html", context, request)
        cache.set(key, html, settings.ARTICLE_PAGE_CACHE_SECONDS)
    response = HttpResponse(html)
    response["ETag"] = '"' + hashlib.sha256(identity.encode()).hexdigest()[:32] + '"'
    return _revalidate(response)


def article_history(request: HttpRequest, slug: str) -> HttpResponse:
    """The published revisions of a live article, newest first, with their change summaries.

    Below them, changes to the medication and symptom details the article shows
    since it was first published: those are outside the revisions, so readers
    learn of them here.
    """
    try:
        live = _live_revision(slug)
    except Withdrawn:
        return render(request, "articles/withdrawn.html", status=410)
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
        "live": live,
        "vocabulary_changes": [vocabulary_change(entry) for entry in changes.order_by("-created_at", "-pk")],
    }
    return _revalidate(render(request, "articles/article_history.html", context))


def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /admin/", f"Sitemap: {settings.PUBLIC_BASE_URL}/sitemap.xml", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
