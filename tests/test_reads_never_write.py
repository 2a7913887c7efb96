"""Reads never write: no GET, on any page, API endpoint or admin screen, changes the database.

Every URL pattern of the site is requested (a new one without a case here fails
the test), as a reader, as a partner and as staff, on a library that has a
scheduled publication whose time has come but that nothing has recorded yet:
the moment a careless read would "helpfully" record it.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from articles import services
from articles.dashboard import REVISION_WORKLISTS, revision_worklist_url
from articles.models import Revision, RevisionState
from tests.conftest import approve

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


def public_patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, str]]:
    """(route, name) of every URL outside the admin."""
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith("admin/"):
                found.extend(public_patterns(pattern, route))
        elif isinstance(pattern, URLPattern):
            found.append((route, pattern.name or ""))
    return found


def writes_during(client: Any, url: str, **headers: Any) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    statements = [q["sql"] for q in queries.captured_queries]
    return response.status_code, [
        sql for sql in statements if sql.lstrip().upper().startswith(WRITES) or "FOR UPDATE" in sql.upper()
    ]


@pytest.fixture
def library(published_pathway: Revision, workflow: Any, author: Any, reviewer: Any, publisher: Any) -> Revision:
    """The demo article and pathway live, and a second article whose scheduled revision is due but unrecorded."""
    live = workflow.live(slug="scheduled-article", medication="schedulamol")
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    draft = approve(services.revision_submit(revision=draft, actor=author, change_summary="Next."), reviewer)
    scheduled = services.revision_publish(
        revision=draft, actor=publisher, publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    Revision.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() - datetime.timedelta(minutes=1))
    return Revision.objects.get(pk=scheduled.pk)


def public_examples(library: Revision, published_article: Revision, published_pathway: Revision) -> dict[str, str]:
    """A GET for every public URL pattern (outside the admin), by pattern name."""
    article = published_article.article.slug
    pathway = published_pathway.article.slug
    return {
        "home": "/",
        "search": "/search/?q=amlodopine",  # no result: the suggestion and the symptom pages are read too
        "detail": f"/articles/{article}/",
        "history": f"/articles/{article}/history/",
        "list": "/triage/",
        "triage-hazard-log": "/admin/triage/hazard-log/",  # staff only: a redirect here, read as staff below
        "admin-notifications": "/admin/notifications/",  # staff only, likewise
        "pathway": f"/triage/{pathway}/",
        "root": "/api/v1/",
        "medication-list": "/api/v1/medications/",
        "medication-detail": f"/api/v1/medications/{published_article.article.medication.slug}/",
        "symptom-list": "/api/v1/symptoms/",
        "symptom-detail": f"/api/v1/symptoms/{published_article.symptom_entries.first().symptom.slug}/",
        "article-list": "/api/v1/articles/?updated_since=2000-01-01T00:00:00Z",
        "article-detail": f"/api/v1/articles/{library.article.slug}/",
        "article-jsonld": f"/api/v1/articles/{library.article.slug}/jsonld/",
        "article-revision-list": f"/api/v1/articles/{library.article.slug}/revisions/",
        "article-revision-detail": f"/api/v1/articles/{library.article.slug}/revisions/{library.number}/",
        "change-feed": "/api/v1/changes/",
        "code-lookup": "/api/v1/lookup/?mainSearchCriteria.v.cs=2.16.840.1.113883.6.88&mainSearchCriteria.v.c=17767",
        "pathway-list": "/api/v1/pathways/",
        "pathway-detail": f"/api/v1/pathways/{pathway}/",
        "pathway-evaluate": f"/api/v1/pathways/{pathway}/evaluate/",  # GET is refused (405), and writes nothing
        "schema": "/api/v1/schema/",
        "docs": "/api/v1/docs/",
        "not-found": "/api/v1/nothing-here/",
        "sitemap": "/sitemap.xml",
        "sitemap-section": "/sitemap-articles.xml",
        "medicine": f"/medicines/{published_article.article.medication.slug}/",
        "symptom": f"/symptoms/{published_article.symptom_entries.first().symptom.slug}/",
        "robots": "/robots.txt",
        "changes-feed": "/feeds/changes.atom",
        "ask": f"/feedback/{published_article.pk}/?helpful=no",
        "thanks": f"/feedback/{published_article.pk}/thanks/",
    }


def test_no_get_anywhere_writes(client, api, library, published_article, published_pathway, admin_user_account):
    examples = public_examples(library, published_article, published_pathway)
    names = {name for _, name in public_patterns()}
    assert names <= set(examples), f"add a GET case for {sorted(names - set(examples))}"

    for name, url in examples.items():
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {api.key}"} if url.startswith("/api/") else {}
        status, writes = writes_during(client, url, **headers)
        assert status < 500, (name, status)
        assert writes == [], (name, url, writes)

    # The health probes answer before URL routing (contentsite.health); they write nothing either.
    for url in ("/healthz", "/readyz"):
        status, writes = writes_during(client, url)
        assert status == 200, (url, status)
        assert writes == [], (url, writes)

    client.force_login(admin_user_account)
    admin_urls = [reverse("admin:index"), reverse("triage-hazard-log"), reverse("admin-notifications")]
    admin_urls += [revision_worklist_url(key) for key in REVISION_WORKLISTS]  # the dashboard's links
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        admin_urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        obj = model._default_manager.order_by("-pk").first()
        if obj is not None:
            admin_urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    for revision in Revision.objects.all():
        admin_urls += [
            reverse("admin:articles_revision_change", args=[revision.pk]),
            reverse("admin:articles_revision_diff", args=[revision.pk]),
            reverse("admin:articles_revision_preview", args=[revision.pk]),
        ]
    for url in admin_urls:
        status, writes = writes_during(client, url)
        assert status < 500, (url, status)
        assert writes == [], (url, writes)

    # Nothing recorded the due schedule: only publish_scheduled (or a transition) does that.
    assert Revision.objects.get(pk=library.pk).state == RevisionState.SCHEDULED
    assert Revision.objects.published().filter(pk=library.pk).exists()
