"""``contentsite.compiled``: a query compiled once and run with other values gives what the ORM gives, row for row.

Run on SQLite and PostgreSQL by CI: the converters (dates, booleans, JSON) differ by database.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import live, services
from articles.models import Article, ArticleKind
from articles.stored_pages import store_pages
from contentsite.compiled import CompiledValues
from tests.factories import article_document


def _orm(shape: Any, slug: str) -> list[tuple[Any, ...]]:
    return list(live._public_rows(shape, slug=slug))


@pytest.fixture
def library(workflow: Any, publisher: Any) -> list[str]:
    """Addresses in every state a work-out meets: live with a stored page, live with none, a scheduled replacement,
    withdrawn, a draft, nothing."""
    stored = workflow.live(article_document(slug="compiled-stored"))
    store_pages([stored.article_id])
    workflow.live(article_document(slug="compiled-plain"))
    scheduled = workflow.live(article_document(slug="compiled-scheduled"))
    workflow.take_live(workflow.next_draft(scheduled), publish_at=timezone.now() + datetime.timedelta(days=1))
    gone = workflow.live(article_document(slug="compiled-gone"))
    services.revision_withdraw(revision=gone, actor=publisher, reason="Wrong.")
    workflow.draft(article_document(slug="compiled-draft"))
    return ["compiled-stored", "compiled-plain", "compiled-scheduled", "compiled-gone", "compiled-draft", "nothing"]


@pytest.mark.parametrize("with_stored", [True, False])
@pytest.mark.parametrize("linked_kinds", [(), ("other-kind",)])
def test_the_work_out_statement_gives_the_orms_rows(library, with_stored, linked_kinds):
    shape = (ArticleKind.ARTICLE.value, linked_kinds, with_stored)
    for slug in library:
        compiled = live._PUBLIC_ROWS.rows(shape, slug=slug)
        assert compiled == _orm(shape, slug), slug
        assert [tuple(type(value) for value in row) for row in compiled] == [
            tuple(type(value) for value in row) for row in _orm(shape, slug)
        ], slug


def test_the_stamp_gives_the_orms_row(library):
    for slug in library:
        expected = Article.objects.filter(slug=slug, kind=ArticleKind.ARTICLE).values_list("pk", "public_version")
        assert live._STAMP.rows(ArticleKind.ARTICLE.value, slug=slug) == list(expected[:1])


def test_one_statement_each_time_whatever_the_value(library):
    live._PUBLIC_ROWS.rows((ArticleKind.ARTICLE.value, (), True), slug="compiled-plain")  # compiled
    with CaptureQueriesContext(connection) as captured:
        for slug in library:
            live._PUBLIC_ROWS.rows((ArticleKind.ARTICLE.value, (), True), slug=slug)
    assert len(captured) == len(library)
    assert all("compiled" not in query["sql"] or "\x1f" not in query["sql"] for query in captured)


def test_a_value_that_is_not_one_parameter_is_asked_through_the_orm_each_time(library):
    """A stand-in found twice among the parameters (or not at all) cannot be put in its place: never kept."""
    twice = CompiledValues(
        Article,
        lambda key, *, slug: Article.objects.filter(slug=slug).exclude(kind=slug).values_list("slug"),
    )
    assert twice.rows("k", slug="compiled-plain") == [("compiled-plain",)]
    assert twice.rows("k", slug="compiled-gone") == [("compiled-gone",)]
