"""The multi-server drill's content, through the review workflow, and its exactly-once check.

Run in a process of its own with ``DATABASE_URL`` set (``deploy/multiserver.py`` does):

    python -m deploy.drill_content load --articles 12 --scheduled 4 --publish-in 40
    python -m deploy.drill_content verify --revisions 31,32,33,34
    python -m deploy.drill_content withdraw --slug drill-article-010

``load`` migrates, loads the demo with its accounts (base settings: production has no demo
accounts), publishes copies of the demo article (import, submit, approve, publish: the services
``load_demo`` uses), schedules a new revision of some of them for ``--publish-in`` seconds from
now, and makes a partner key. It prints one line of JSON. ``verify`` prints, for each scheduled
revision, its state and how many times the audit log records its publication. ``withdraw``
withdraws an article as the publisher and prints how many invalidations are left pending.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from .servers import setup_django_for_script

ROOT = Path(__file__).resolve().parent.parent
DEMO_DOCUMENT = ROOT / "articles" / "demo" / "amlodipine-peripheral-neuropathy.json"
SLUG_PREFIX = "drill-article"


def setup_django() -> None:
    setup_django_for_script("drill")


def _document(number: int) -> dict[str, Any]:
    document = copy.deepcopy(json.loads(DEMO_DOCUMENT.read_text()))
    document["article"]["slug"] = f"{SLUG_PREFIX}-{number:03d}"
    document["revision"]["title"] = f"{document['revision']['title'][:60]} (drill copy {number})"
    return document


def _accounts() -> tuple[Any, Any, Any]:
    from django.contrib.auth import get_user_model

    from articles.demo.loading import AUTHOR, PUBLISHER, REVIEWER

    users = get_user_model().objects
    author, reviewer, publisher = (users.get(username=a.username) for a in (AUTHOR, REVIEWER, PUBLISHER))
    return author, reviewer, publisher


def _review(revision: Any, *, author: Any, reviewer: Any, change_summary: str | None = None) -> Any:
    """Submit ``revision`` and approve it (four eyes: the demo reviewer), acknowledging the checks' warnings."""
    from articles import services
    from articles.content_checks import check_revision
    from articles.models import Revision

    revision = services.revision_submit(revision=revision, actor=author, change_summary=change_summary)
    warnings = check_revision(Revision.objects.with_content().get(pk=revision.pk)).warning_codes
    return services.revision_approve(
        revision=revision,
        actor=reviewer,
        content_hash_seen=revision.content_hash,
        acknowledged_warnings=warnings,
        comment="Drill approval.",
    )


def load(*, articles: int, scheduled: int, publish_in: float) -> dict[str, Any]:
    """Live articles and scheduled revisions for the drill; idempotent only on an empty database."""
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from articles import services
    from articles.models import Article, Revision
    from partners.models import Partner
    from partners.services import partner_key_create

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    author, reviewer, publisher = _accounts()
    slugs = []
    for number in range(1, articles + 1):
        with transaction.atomic():
            revision = services.article_import(document=_document(number), actor=author)
            revision = _review(revision, author=author, reviewer=reviewer)
            services.revision_publish(revision=revision, actor=publisher)
        slugs.append(f"{SLUG_PREFIX}-{number:03d}")
    publish_at = timezone.now() + timedelta(seconds=publish_in)
    revisions = []
    for slug in slugs[:scheduled]:
        article = Article.objects.get(slug=slug)
        live = Revision.objects.published().get(article=article)
        with transaction.atomic():
            draft = services.revision_create_draft(article=article, actor=author, based_on=live)
            approved = _review(draft, author=author, reviewer=reviewer, change_summary="Drill: scheduled re-issue.")
            scheduled_revision = services.revision_publish(revision=approved, actor=publisher, publish_at=publish_at)
        revisions.append(scheduled_revision.pk)
    partner, _ = Partner.objects.get_or_create(name="Drill partner")
    _, key = partner_key_create(partner=partner, name="drill")
    return {
        "slugs": slugs,
        "scheduled_slugs": slugs[:scheduled],
        "scheduled_revisions": revisions,
        "publish_at": publish_at.isoformat(),
        "api_key": key,
    }


def verify(revision_ids: list[int]) -> dict[str, Any]:
    """Each scheduled revision's state and the number of times its publication (and its predecessor's
    replacement) is in the audit log: exactly once is one of each."""
    from articles.models import AuditAction, AuditEntry, Revision

    found = {}
    for revision in Revision.objects.filter(pk__in=revision_ids).order_by("pk"):
        entries = AuditEntry.objects.filter(article_id=revision.article_id)
        found[str(revision.pk)] = {
            "slug": revision.article.slug,
            "number": revision.number,
            "state": revision.state,
            "publications": entries.filter(revision=revision, action=AuditAction.PUBLISH).count(),
            "supersessions": entries.filter(action=AuditAction.SUPERSEDE, comment__contains="scheduled time").count(),
            "published_revisions": Revision.objects.filter(article_id=revision.article_id, state="published").count(),
        }
    return found


def withdraw(slug: str) -> dict[str, Any]:
    """Withdraw the live revision at ``slug`` as the publisher; how many invalidations are left pending after its
    commit (``contentsite.invalidation``: one, when the cache could not take its drop)."""
    from articles import services
    from articles.models import Revision
    from contentsite.models import PendingInvalidation

    _, _, publisher = _accounts()
    live = Revision.objects.published().get(article__slug=slug)
    services.revision_withdraw(revision=live, actor=publisher, reason="Drill: withdrawn while Redis restarts.")
    return {"slug": slug, "pending_invalidations": PendingInvalidation.objects.count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    loading = commands.add_parser("load")
    loading.add_argument("--articles", type=int, default=12)
    loading.add_argument("--scheduled", type=int, default=4)
    loading.add_argument("--publish-in", type=float, default=60, help="seconds from now")
    checking = commands.add_parser("verify")
    checking.add_argument("--revisions", required=True, help="comma-separated revision ids")
    withdrawing = commands.add_parser("withdraw")
    withdrawing.add_argument("--slug", required=True)
    arguments = parser.parse_args()
    setup_django()
    if arguments.command == "load":
        result = load(articles=arguments.articles, scheduled=arguments.scheduled, publish_in=arguments.publish_in)
    elif arguments.command == "withdraw":
        result = withdraw(arguments.slug)
    else:
        result = verify([int(pk) for pk in arguments.revisions.split(",") if pk])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
