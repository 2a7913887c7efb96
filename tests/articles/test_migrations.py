"""Data migrations, run for real against the test database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_TOPIC_COPY = ("articles", "0010_revision_topic")
BEFORE_ROLE_CHANGES = ("articles", "0013_vocabulary_permissions_and_audit_actions")


def migrate(*targets: tuple[str, str]) -> object:
    """Migrate to ``targets`` (or every app's latest migration) and return the apps as they are then."""
    executor = MigrationExecutor(connection)
    plan_targets = list(targets) or executor.loader.graph.leaf_nodes()
    executor.migrate(plan_targets)
    executor.loader.build_graph()
    return executor.loader.project_state(plan_targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_topic_is_copied_from_the_article_into_every_revision_and_back():
    apps = migrate(BEFORE_TOPIC_COPY)
    Medication = apps.get_model("articles", "Medication")
    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    medication = Medication.objects.create(slug="testamol", generic_name="Testamol")
    pain = Article.objects.create(slug="testamol-pain", medication=medication, topic="Muscle pain")
    rash = Article.objects.create(slug="testamol-rash", medication=medication, topic="Rash")
    for article, count in ((pain, 3), (rash, 1)):
        for number in range(1, count + 1):
            Revision.objects.create(article=article, number=number, title="T", summary="S")

    try:
        apps = migrate()
        Revision = apps.get_model("articles", "Revision")
        topics = sorted(Revision.objects.values_list("article__slug", "number", "topic"))
        assert topics == [
            ("testamol-pain", 1, "Muscle pain"),
            ("testamol-pain", 2, "Muscle pain"),
            ("testamol-pain", 3, "Muscle pain"),
            ("testamol-rash", 1, "Rash"),
        ]
        assert "topic" not in {field.name for field in apps.get_model("articles", "Article")._meta.get_fields()}

        # Reversible: going back puts the latest revision's topic on the article.
        Revision.objects.filter(article__slug="testamol-pain", number=3).update(topic="Muscle weakness")
        apps = migrate(BEFORE_TOPIC_COPY)
        Article = apps.get_model("articles", "Article")
        assert dict(Article.objects.values_list("slug", "topic")) == {
            "testamol-pain": "Muscle weakness",
            "testamol-rash": "Rash",
        }
    finally:
        migrate()


@pytest.mark.django_db(transaction=True)
def test_the_vocabulary_permissions_move_from_authors_to_clinical_reviewers(roles):
    migrate(BEFORE_ROLE_CHANGES)
    apps = migrate()
    Group = apps.get_model("auth", "Group")

    def codenames(group: str) -> set[str]:
        return set(Group.objects.get(name=group).permissions.values_list("codename", flat=True))

    assert {"amend_medication", "amend_symptom"} <= codenames("Clinical reviewers")
    assert not {"amend_medication", "amend_symptom", "change_medication", "change_symptom", "change_article"} & (
        codenames("Authors") | codenames("Publishers")
    )


@pytest.mark.django_db(transaction=True)
def test_the_live_tallies_are_filled_from_the_recorded_live_revisions():
    apps = migrate(("articles", "0070_article_list_indexes"))
    Medication = apps.get_model("articles", "Medication")
    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    medication = Medication.objects.create(slug="testamol", generic_name="Testamol")
    now = "2026-01-01T00:00:00Z"
    for slug, states in (("a", ["superseded", "published"]), ("b", ["published"]), ("c", ["withdrawn"])):
        article = Article.objects.create(slug=slug, medication=medication)
        for number, state in enumerate(states, start=1):
            topic = "Rash" if number == len(states) else "Old topic"
            Revision.objects.create(
                article=article, number=number, state=state, topic=topic, title="T", summary="S", published_at=now
            )
    try:
        apps = migrate()
        LiveTally = apps.get_model("articles", "LiveTally")
        Article = apps.get_model("articles", "Article")
        assert list(LiveTally.objects.values_list("kind", "medication__slug", "topic", "count")) == [
            ("article", "testamol", "Rash", 2)
        ]
        assert dict(Article.objects.values_list("slug", "tallied_topic")) == {"a": "Rash", "b": "Rash", "c": None}
    finally:
        migrate()
