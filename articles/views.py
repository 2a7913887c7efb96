"""Public pages. They reach content only through ``Revision.objects.published()``."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import Revision
from .presentation import build_article_page
from .structured_data import canonical_url, json_ld_script, medical_web_page

SEARCH_MAX_LENGTH = 200


def home(request: HttpRequest) -> HttpResponse:
    """Published articles, grouped by medication."""
    revisions = (
        Revision.objects.published()
        .select_related("article__medication")
        .order_by("article__medication__generic_name", "title", "pk")
    )
    return render(request, "articles/home.html", {"revisions": revisions})


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
            .select_related("article__medication")
            .filter(
                Q(title__icontains=query)
                | Q(summary__icontains=query)
                | Q(article__topic__icontains=query)
                | Q(article__medication__generic_name__icontains=query)
                | Q(article__medication__brand_names__icontains=query)
            )
            .order_by("title", "pk")
        )
    page = Paginator(results, 20).get_page(request.GET.get("page"))
    status = 400 if error else 200
    return render(request, "articles/search.html", {"query": query, "page": page, "error": error}, status=status)


def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The live revision of one article, with everything a reader needs on one page."""
    revision = get_object_or_404(Revision.objects.published().with_content(), article__slug=slug)
    context = {
        "page": build_article_page(revision),
        "canonical_url": canonical_url(revision),
        "json_ld": json_ld_script(medical_web_page(revision)),
    }
    return render(request, "articles/article_detail.html", context)


def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /admin/", f"Sitemap: {settings.PUBLIC_BASE_URL}/sitemap.xml", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
