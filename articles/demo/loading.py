"""Loading the demo: idempotent, so running it again changes nothing.

Each demo article goes through the real workflow: drafted (imported) by the
demo author, submitted, approved by the demo reviewer, published by the demo
publisher. The demo reviewer's profile says it is not a real clinician, and
the public page says so next to the review.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction

from articles import services
from articles.content_checks import check_revision
from articles.interchange.importer import ARTICLE_FORMAT, DocumentFormat, load_document
from articles.models import Article, ReviewerProfile, Revision

DEMO_DIRECTORY = Path(__file__).resolve().parent
# Well known on purpose: these accounts exist only on developers' machines.
DEMO_PASSWORD = "demo-password-local-only"  # noqa: S105 - public on purpose, local only


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    group: str = ""
    superuser: bool = False
    last_name: str = ""  # "Demo Reviewer": the admin's header shows the full name, so each account says which it is


AUTHOR = DemoAccount("demo-author", "author: writes and submits drafts", group="Authors", last_name="Author")
REVIEWER = DemoAccount(
    "demo-reviewer",
    "clinical reviewer: approves or requests changes",
    group="Clinical reviewers",
    last_name="Reviewer",
)
PUBLISHER = DemoAccount(
    "demo-publisher", "publisher: publishes, schedules, withdraws", group="Publishers", last_name="Publisher"
)
ADMIN = DemoAccount("demo-admin", "administrator: everything", superuser=True, last_name="Administrator")
DEMO_ACCOUNTS = (AUTHOR, REVIEWER, PUBLISHER, ADMIN)

DEMO_REVIEWER_PROFILE = {
    "display_name": "Demo Reviewer (demonstration account, not a real clinician)",
    "credentials": "No clinical credentials: demonstration account",
    "registration_body": "None: demonstration account",
    "registration_number": "None: demonstration account",
    "is_demonstration": True,
}


# Where demo content lives, in loading order, with the format of its files.
# Other apps add theirs with ``register_demo_source`` (triage adds its pathway).
_SOURCES: list[tuple[Path, DocumentFormat]] = [(DEMO_DIRECTORY, ARTICLE_FORMAT)]


def register_demo_source(directory: Path, fmt: DocumentFormat) -> None:
    if (directory, fmt) not in _SOURCES:
        _SOURCES.append((directory, fmt))


def demo_files() -> list[tuple[Path, DocumentFormat]]:
    return [(path, fmt) for directory, fmt in _SOURCES for path in sorted(directory.glob("*.json"))]


def ensure_demo_accounts() -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; return the ones created."""
    if not settings.DEMO_ACCOUNTS_ENABLED:
        return []
    User = get_user_model()
    created = []
    for account in DEMO_ACCOUNTS:
        user, was_created = User.objects.get_or_create(
            username=account.username,
            defaults={
                "is_staff": True,
                "is_superuser": account.superuser,
                "first_name": "Demo",
                "last_name": account.last_name,
                # A reserved domain: locally the console prints the workflow emails they would get.
                "email": f"{account.username}@example.org",
            },
        )
        if not was_created:
            continue
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        if account.group:
            user.groups.add(Group.objects.get(name=account.group))
        if account is REVIEWER:
            ReviewerProfile.objects.create(user=user, **DEMO_REVIEWER_PROFILE)
        created.append(account)
    return created


DEMO_PARTNER = "Demo partner (demonstration)"


def ensure_demo_partner() -> bool:
    """A partner to try the API with; it has no key until you create one (create_partner_key)."""
    from partners.models import Partner

    _, created = Partner.objects.get_or_create(
        name=DEMO_PARTNER,
        defaults={"is_demonstration": True, "notes": "Created by load_demo for trying the API locally."},
    )
    return created


def _user(account: DemoAccount) -> AbstractBaseUser | None:
    return get_user_model().objects.filter(username=account.username).first()


def load_demo_content() -> list[tuple[str, str]]:
    """Bring each demo article that is not on the site yet through the workflow.

    Returns (slug, what happened) pairs. Without the demo accounts (production
    settings) articles are imported as drafts for real reviewers to take on.
    """
    author, reviewer, publisher = _user(AUTHOR), _user(REVIEWER), _user(PUBLISHER)
    loaded = []
    for path, fmt in demo_files():
        document = load_document(path.read_bytes())
        if Article.objects.filter(slug=document["article"]["slug"]).exists():
            continue
        with transaction.atomic():
            revision = services.article_import(document=document, actor=author, fmt=fmt)
            if author and reviewer and publisher:
                revision = services.revision_submit(revision=revision, actor=author)
                warnings = check_revision(Revision.objects.with_content().get(pk=revision.pk)).warning_codes
                revision = services.revision_approve(
                    revision=revision,
                    actor=reviewer,
                    content_hash_seen=revision.content_hash,
                    acknowledged_warnings=warnings,
                    comment="Demonstration approval by a demonstration account; not a clinical review.",
                )
                services.revision_publish(revision=revision, actor=publisher)
                loaded.append((revision.article.slug, "published through the review workflow"))
            else:
                loaded.append((revision.article.slug, "imported as a draft (no demo accounts here)"))
    return loaded
