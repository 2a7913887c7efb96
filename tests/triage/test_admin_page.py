"""A pathway revision's admin page costs the same queries however many questions, rules and audit entries it has."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.models import AuditAction, AuditEntry
from triage.models import AnswerOption, Condition, Question, Rule

pytestmark = pytest.mark.django_db

GROWN_BY = 10


def _queries(client, revision) -> CaptureQueriesContext:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:articles_revision_change", args=[revision.pk])).status_code == 200
    return queries


def _grow(revision) -> None:
    """``GROWN_BY`` more questions (each with its answers), rules (each with its conditions) and audit entries."""
    question = Question.objects.filter(revision=revision).order_by("position").first()
    rule = Rule.objects.filter(revision=revision).order_by("position").first()
    for n in range(GROWN_BY):
        options = list(AnswerOption.objects.filter(question=question))
        copy = Question.objects.get(pk=question.pk)
        copy.pk, copy.key, copy.position = None, f"extra-{n}", 900 + n
        copy.save()
        for option in options:
            option.pk, option.question = None, copy
        AnswerOption.objects.bulk_create(options)
        conditions = list(Condition.objects.filter(rule=rule))
        grown = Rule.objects.get(pk=rule.pk)
        grown.pk, grown.key, grown.position = None, f"extra-{n}", 900 + n
        grown.save()
        for condition in conditions:
            condition.pk, condition.rule = None, grown
        Condition.objects.bulk_create(conditions)
        AuditEntry.objects.create(
            article=revision.article, revision=revision, action=AuditAction.COMMENT, comment=f"Note {n}."
        )


def test_a_pathway_revisions_page_costs_the_same_queries_with_many_more_rows(client, published_pathway, reviewer):
    """Found by a helper at 100,000 articles: the page ran 126 queries for the demo pathway, each question asking for
    its answers and symptom, each rule for its disposition, conditions and their answers' questions, and each audit
    entry for its revision and article. Grown by ten of each, it must cost the same."""
    client.force_login(reviewer)
    _queries(client, published_pathway)  # what is read once per process (permissions, the content checks' memo)
    small = _queries(client, published_pathway)
    _grow(published_pathway)
    large = _queries(client, published_pathway)
    repeated = Counter(re.sub(r"\d+", "N", query["sql"])[:120] for query in large).most_common(3)
    assert len(large) == len(small), repeated
