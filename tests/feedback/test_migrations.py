"""Feedback's data migrations, run for real against the test database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from tests.articles.test_migrations import migrate

BEFORE_ACTOR_NAMES = ("feedback", "0003_grant_feedback_permissions")


def feedback_audit_log_refuses_updates() -> bool:
    """Whether the database's append-only trigger (0002) refuses an UPDATE of the feedback audit log."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE feedback_feedbackauditentry SET action = 'handled'")
    except DatabaseError:
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_entries_recorded_before_names_were_kept_are_named_from_the_accounts_and_stay_append_only():
    """0004/0005: each earlier entry gets its account's names of migration time; the trigger is there throughout."""
    apps = migrate(BEFORE_ACTOR_NAMES)
    User = apps.get_model("auth", "User")
    Medication = apps.get_model("articles", "Medication")
    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    Feedback = apps.get_model("feedback", "Feedback")
    FeedbackAuditEntry = apps.get_model("feedback", "FeedbackAuditEntry")
    article = Article.objects.create(slug="testamol-rash", medication=Medication.objects.create(slug="testamol"))
    revision = Revision.objects.create(article=article, number=1, title="T", summary="S")
    for actor in (
        User.objects.create(username="jdoe", first_name="Jane", last_name="Doe"),
        User.objects.create(username="asha"),
    ):
        feedback = Feedback.objects.create(revision=revision, helpful=True, handled=True)
        FeedbackAuditEntry.objects.create(feedback=feedback, actor=actor, action="handled")
    try:
        migrate(("feedback", "0004_feedbackauditentry_actor_names"))
        assert feedback_audit_log_refuses_updates()  # SQLite rebuilt the table to add the columns

        apps = migrate()
        FeedbackAuditEntry = apps.get_model("feedback", "FeedbackAuditEntry")
        assert list(FeedbackAuditEntry.objects.order_by("pk").values_list("actor_name", "actor_username")) == [
            ("Jane Doe", "jdoe"),
            ("asha", "asha"),
        ]
        assert feedback_audit_log_refuses_updates()

        migrate(BEFORE_ACTOR_NAMES)  # and back: SQLite rebuilds it again
        assert feedback_audit_log_refuses_updates()
    finally:
        migrate()
