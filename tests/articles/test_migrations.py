"""Data migrations, run for real against the test database."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
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


@pytest.mark.django_db(transaction=True)
def test_the_live_symptom_tallies_are_filled_from_the_recorded_live_revisions():
    apps = migrate(("articles", "0111_live_symptom_tallies"))
    Medication = apps.get_model("articles", "Medication")
    Symptom = apps.get_model("articles", "Symptom")
    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    SymptomEntry = apps.get_model("articles", "SymptomEntry")
    medication = Medication.objects.create(slug="testamol", generic_name="Testamol")
    rash, cough, old = (
        Symptom.objects.create(slug=slug, name=slug, description="D.") for slug in ("rash", "cough", "old")
    )
    now = "2026-01-01T00:00:00Z"
    shows = {
        "a": [("superseded", [old]), ("published", [rash, cough])],
        "b": [("published", [rash])],
        "c": [("withdrawn", [cough])],
    }
    for slug, revisions in shows.items():
        article = Article.objects.create(slug=slug, medication=medication)
        for number, (state, symptoms) in enumerate(revisions, start=1):
            revision = Revision.objects.create(
                article=article, number=number, state=state, title="T", summary="S", published_at=now
            )
            for position, symptom in enumerate(symptoms, start=1):
                SymptomEntry.objects.create(
                    revision=revision, symptom=symptom, key=f"e{position}", position=position, text="T."
                )
    try:
        apps = migrate()
        LiveSymptomTally = apps.get_model("articles", "LiveSymptomTally")
        Article = apps.get_model("articles", "Article")
        tallies = LiveSymptomTally.objects.values_list("kind", "symptom__slug", "count")
        assert sorted(tallies) == [("article", "cough", 1), ("article", "rash", 2)]
        assert dict(Article.objects.values_list("slug", "tallied_revision__number")) == {"a": 2, "b": 1, "c": None}
    finally:
        migrate()


@pytest.mark.django_db(transaction=True)
def test_an_article_with_several_open_drafts_keeps_the_one_saved_last_and_the_rest_are_archived():
    """Before the constraint of one open draft per article, existing extras are archived (and audited), not lost."""
    apps = migrate(("articles", "0099_section_body_optional"))
    Medication = apps.get_model("articles", "Medication")
    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    medication = Medication.objects.create(slug="testamol", generic_name="Testamol")
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    drafts = {
        "crowded": [("published", 0), ("draft", 3), ("changes_requested", 1), ("draft", 2)],
        "alone": [("draft", 1), ("archived", 0)],
    }
    for slug, states in drafts.items():
        article = Article.objects.create(slug=slug, medication=medication)
        for number, (state, hours_ago) in enumerate(states, start=1):
            revision = Revision.objects.create(
                article=article,
                number=number,
                state=state,
                title="T",
                summary="S",
                published_at=now if state == "published" else None,
            )
            Revision.objects.filter(pk=revision.pk).update(updated_at=now - datetime.timedelta(hours=hours_ago))
    try:
        apps = migrate()
        Revision = apps.get_model("articles", "Revision")
        AuditEntry = apps.get_model("articles", "AuditEntry")
        assert sorted(Revision.objects.values_list("article__slug", "number", "state")) == [
            ("alone", 1, "draft"),
            ("alone", 2, "archived"),
            ("crowded", 1, "published"),
            ("crowded", 2, "archived"),
            ("crowded", 3, "changes_requested"),  # saved last: the one someone is working on
            ("crowded", 4, "archived"),
        ]
        archived = AuditEntry.objects.order_by("revision__number")
        assert [(e.revision.number, e.actor_id, e.action, e.from_state, e.to_state) for e in archived] == [
            (2, None, "archive", "draft", "archived"),
            (4, None, "archive", "draft", "archived"),
        ]
        assert all(e.data == {"kept_open": 3} and "revision 3 stays open" in e.comment for e in archived)
    finally:
        migrate()


def audit_log_refuses_updates() -> bool:
    """Whether the database's append-only trigger (0003) refuses an UPDATE of the audit log."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE articles_auditentry SET comment = 'rewritten'")
    except DatabaseError:
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_audit_entries_recorded_before_names_were_kept_are_named_from_the_accounts_and_stay_append_only():
    """0104/0105: each earlier entry gets its account's names of migration time; the trigger is there throughout."""
    apps = migrate(("articles", "0103_search_trigram_indexes"))
    User = apps.get_model("auth", "User")
    Medication = apps.get_model("articles", "Medication")
    Article = apps.get_model("articles", "Article")
    AuditEntry = apps.get_model("articles", "AuditEntry")
    named = User.objects.create(username="jdoe", first_name="Jane", last_name="Doe")
    unnamed = User.objects.create(username="asha")
    article = Article.objects.create(slug="testamol-rash", medication=Medication.objects.create(slug="testamol"))
    for actor in (named, unnamed, None):
        AuditEntry.objects.create(article=article, actor=actor, action="comment")
    try:
        apps = migrate(("articles", "0104_auditentry_actor_names"))
        assert audit_log_refuses_updates()  # SQLite rebuilt the table to add the columns

        apps = migrate()
        AuditEntry = apps.get_model("articles", "AuditEntry")
        assert list(AuditEntry.objects.order_by("pk").values_list("actor_name", "actor_username")) == [
            ("Jane Doe", "jdoe"),
            ("asha", "asha"),
            ("", ""),
        ]
        assert audit_log_refuses_updates()

        migrate(("articles", "0103_search_trigram_indexes"))  # and back: SQLite rebuilds it again
        assert audit_log_refuses_updates()
    finally:
        migrate()
