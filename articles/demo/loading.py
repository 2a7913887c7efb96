"""Loading the demo: idempotent, so running it again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from articles.interchange.importer import load_document
from articles.models import Article
from articles.services import article_import, revision_publish

DEMO_DIRECTORY = Path(__file__).resolve().parent
# Well known on purpose: these accounts exist only on developers' machines.
DEMO_PASSWORD = "demo-password-local-only"  # noqa: S105 - public on purpose, local only


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    superuser: bool = False


DEMO_ACCOUNTS = (DemoAccount("demo-admin", "administrator (all permissions)", superuser=True),)


def demo_files() -> list[Path]:
    return sorted(DEMO_DIRECTORY.glob("*.json"))


def ensure_demo_accounts() -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; return the ones created."""
    if not settings.DEMO_ACCOUNTS_ENABLED:
        return []
    User = get_user_model()
    created = []
    for account in DEMO_ACCOUNTS:
        user, was_created = User.objects.get_or_create(
            username=account.username,
            defaults={"is_staff": True, "is_superuser": account.superuser, "first_name": "Demo"},
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created.append(account)
    return created


def demo_actor() -> AbstractBaseUser | None:
    return get_user_model().objects.filter(username=DEMO_ACCOUNTS[0].username).first()


def load_demo_content() -> list[str]:
    """Import and publish each demo article that is not on the site yet; return their slugs."""
    loaded = []
    actor = demo_actor()
    for path in demo_files():
        document = load_document(path.read_bytes())
        if Article.objects.filter(slug=document["article"]["slug"]).exists():
            continue
        with transaction.atomic():
            revision = article_import(document=document, actor=actor)
            revision_publish(revision=revision, actor=actor)
        loaded.append(revision.article.slug)
    return loaded
