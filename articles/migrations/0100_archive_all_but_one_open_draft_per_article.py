"""Before the constraint of one open draft per article: archive the extra drafts of articles that have several.

Until now only the admin kept an article to one open draft (a revision in draft or
changes requested); a command, an import or two clicks at once could open a
second. Each article with several keeps the one saved last (the one someone is
working on; ties go to the higher number) and the others are archived, with an
audit entry by nobody (the system) that names the draft kept open. Archiving
deletes nothing: an archived revision stays on record and can be copied into a new
draft. Nothing to do on a database where no article has two.
"""

from django.db import migrations
from django.db.models import Count
from django.utils import timezone

EDITABLE = ["changes_requested", "draft"]  # EDITABLE_STATES, as they are at this migration


def archive_extra_open_drafts(apps, schema_editor):
    Revision = apps.get_model("articles", "Revision")
    AuditEntry = apps.get_model("articles", "AuditEntry")
    crowded = (
        Revision.objects.filter(state__in=EDITABLE)
        .values("article_id")
        .annotate(open_drafts=Count("pk"))
        .filter(open_drafts__gt=1)
        .values_list("article_id", flat=True)
    )
    now = timezone.now()
    for article_id in sorted(crowded):
        kept, *extra = Revision.objects.filter(article_id=article_id, state__in=EDITABLE).order_by(
            "-updated_at", "-number"
        )
        for revision in extra:
            from_state = revision.state
            Revision.objects.filter(pk=revision.pk).update(state="archived", updated_at=now)
            AuditEntry.objects.create(
                article_id=article_id,
                revision_id=revision.pk,
                actor=None,
                action="archive",
                from_state=from_state,
                to_state="archived",
                comment=(
                    f"Archived when the platform began to keep one open draft per article: revision "
                    f"{kept.number} stays open. Copy this revision into a new draft to take its work up again."
                ),
                data={"kept_open": kept.number},
                created_at=now,
            )


class Migration(migrations.Migration):
    dependencies = [("articles", "0099_section_body_optional")]

    operations = [migrations.RunPython(archive_extra_open_drafts, migrations.RunPython.noop)]
