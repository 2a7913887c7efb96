"""Fill ``RevisionContributor`` from the audit log for revisions made before it existed.

A revision's contributors are its creator, everyone who created or saved it
(audit entries), and, when it was copied from a revision that had no approval,
that revision's contributors too. Revisions are visited in primary-key order,
so a source is always done before its copies.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    Revision = apps.get_model("articles", "Revision")
    AuditEntry = apps.get_model("articles", "AuditEntry")
    ClinicalReview = apps.get_model("articles", "ClinicalReview")
    RevisionContributor = apps.get_model("articles", "RevisionContributor")

    approved = set(ClinicalReview.objects.filter(kind="approval").values_list("revision_id", flat=True))
    edits: dict[int, set[int]] = {}
    for revision_id, actor_id in AuditEntry.objects.filter(
        action__in=["create_draft", "save_draft"], actor__isnull=False, revision__isnull=False
    ).values_list("revision_id", "actor_id"):
        edits.setdefault(revision_id, set()).add(actor_id)

    contributors: dict[int, set[int]] = {}
    rows = []
    for pk, created_by, based_on in Revision.objects.order_by("pk").values_list("pk", "created_by_id", "based_on_id"):
        users = set(edits.get(pk, ()))
        if created_by is not None:
            users.add(created_by)
        if based_on is not None and based_on not in approved:
            users |= contributors.get(based_on, set())
        contributors[pk] = users
        rows.extend(RevisionContributor(revision_id=pk, user_id=user) for user in sorted(users))
    RevisionContributor.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("articles", "0040_revision_contributors")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
