from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from articles.models import Revision
from articles.services import article_import, revision_publish
from tests.factories import article_document, demo_document


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    # With REDIS_URL set the cache outlives a test's transaction; start each test clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin_user_account(db: Any) -> Any:
    return get_user_model().objects.create_superuser("admin-test", "admin@example.org", "pw")


@pytest.fixture
def published_article(db: Any) -> Revision:
    """The demo article, imported and published."""
    revision = article_import(document=demo_document(), actor=None)
    return revision_publish(revision=revision, actor=None)


@pytest.fixture
def publish_document(db: Any) -> Any:
    def publish(document: dict[str, Any] | None = None, **kwargs: Any) -> Revision:
        revision = article_import(document=document or article_document(**kwargs), actor=None)
        return revision_publish(revision=revision, actor=None)

    return publish
