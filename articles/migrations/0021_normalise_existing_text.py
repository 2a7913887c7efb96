"""Bring stored text into the form every boundary now gives it (see ``articles.text``).

What is normalised: the content of revisions that can still be edited (draft,
changes requested), the medication and symptom vocabulary, and reviewer
profiles. Line endings become LF, text becomes Unicode NFC and loses
surrounding whitespace; a line break inside a one-line field becomes a space.
Characters that may no longer be stored (control characters, bidirectional
controls, invisible formatting characters) are removed rather than failing the
migration. Each draft changed gets an audit entry listing what changed and
which characters were removed, and its version moves on, so a copy of it
open in someone's browser is refused as stale instead of overwriting this.

What is left exactly as it is: every revision that has been submitted (in
review, approved, scheduled, published, superseded, withdrawn, archived). Its
content is what a clinician reviewed and its approval records that content's
hash; publishing and "reviewed, no change" check the hash. Rewriting those
rows, however harmless the change, would be changing reviewed content without
review. They keep rendering as before (Markdown reads CRLF as LF); a new draft
copied from one is normalised when it is next saved, and that change is
reviewed like any other. Review comments, review records and the audit log
are records of what was written, and are left alone too.

The rules are written out here, not imported, so this migration keeps doing
what it did when it landed.
"""

import re
import unicodedata

from django.db import migrations
from django.utils import timezone

EDITABLE_STATES = ("draft", "changes_requested")
NAME = "articles.0021_normalise_existing_text"

_KEPT_FORMAT = frozenset("\u00ad\u061c\u200c\u200d\u200e\u200f")


def _refused(character):
    if character in "\t\n":
        return False
    category = unicodedata.category(character)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return True
    if category == "Cf":
        return character not in _KEPT_FORMAT
    code = ord(character)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def stored_text(value, single_line, removed):
    """``value`` as it would be stored today; the code points of removed characters are added to ``removed``."""
    text = re.sub(r"\r\n?", "\n", value)
    kept = []
    for character in text:
        if _refused(character):
            removed.add(f"U+{ord(character):04X}")
        else:
            kept.append(character)
    text = unicodedata.normalize("NFC", "".join(kept))
    if single_line:
        text = re.sub(r"\s*\n\s*", " ", text)
    return text.strip()


def normalise_rows(apps, app_label, model_name, fields, revision_path, label, changes):
    """Normalise ``fields`` (name -> one line?) of the rows of editable revisions.

    ``changes`` maps revision id -> (the lists changed, by ``label``; the characters removed).
    """
    model = apps.get_model(app_label, model_name)
    rows = model.objects.filter(**{f"{revision_path}__state__in": EDITABLE_STATES}).values_list(
        "pk", revision_path, *fields
    )
    updated = []
    for pk, revision_id, *values in rows.iterator():
        old = dict(zip(fields, values, strict=True))
        removed = set()
        new = {name: stored_text(value, fields[name], removed) for name, value in old.items()}
        if new != old:
            updated.append(model(pk=pk, **new))
            names, characters = changes.setdefault(revision_id, (set(), set()))
            names.add(label)
            characters.update(removed)
    model.objects.bulk_update(updated, list(fields), batch_size=500)


def record_changes(apps, changes, what):
    """One audit entry per draft changed, and the draft's version moves on."""
    Revision = apps.get_model("articles", "Revision")
    AuditEntry = apps.get_model("articles", "AuditEntry")
    now = timezone.now()
    for revision in Revision.objects.filter(pk__in=list(changes)).order_by("pk"):
        names, removed = changes[revision.pk]
        version = revision.lock_version + 1
        Revision.objects.filter(pk=revision.pk).update(lock_version=version, updated_at=now)
        comment = f"{what} normalised by an upgrade (line endings, Unicode NFC, surrounding spaces)."
        if removed:
            comment += " Removed characters that may no longer be stored: " + ", ".join(sorted(removed)) + "."
        AuditEntry.objects.create(
            article_id=revision.article_id,
            revision_id=revision.pk,
            actor=None,
            action="save_draft",
            from_state=revision.state,
            to_state=revision.state,
            comment=comment,
            data={"changed": sorted(names), "version": version, "migration": NAME, "removed": sorted(removed)},
            created_at=now,
        )


def normalise_vocabulary(apps):
    Medication = apps.get_model("articles", "Medication")
    Symptom = apps.get_model("articles", "Symptom")
    ReviewerProfile = apps.get_model("articles", "ReviewerProfile")
    for model, fields, unique in (
        (Medication, {"generic_name": True, "drug_class": True}, "generic_name"),
        (Symptom, {"name": True, "description": False}, "name"),
        (
            ReviewerProfile,
            {"display_name": True, "credentials": True, "registration_body": True, "registration_number": True},
            None,
        ),
    ):
        for row in model.objects.order_by("pk"):
            new = {name: stored_text(getattr(row, name), single_line, set()) for name, single_line in fields.items()}
            if model is Medication:
                names = [stored_text(name, True, set()) for name in row.brand_names if isinstance(name, str)]
                new["brand_names"] = [name for index, name in enumerate(names) if name and name not in names[:index]]
            if unique and model.objects.filter(**{unique: new[unique]}).exclude(pk=row.pk).exists():
                new.pop(unique)  # two entries would become one name: leave it for an editor to resolve
            if any(getattr(row, name) != value for name, value in new.items()):
                if model is not ReviewerProfile:
                    # Shown on live pages: move the entry's clock, so cached pages and partners' copies renew.
                    new["updated_at"] = timezone.now()
                model.objects.filter(pk=row.pk).update(**new)


LINE, BLOCK = True, False

CONTENT_ROWS = (
    ("Section", {"heading": LINE, "body": BLOCK}, "revision", "sections"),
    ("SymptomEntry", {"text": BLOCK, "frequency_source": LINE}, "revision", "symptom_entries"),
    ("ComparisonTable", {"caption": LINE, "feature_heading": LINE}, "revision", "comparison_tables"),
    ("ComparisonColumn", {"heading": LINE}, "table__revision", "comparison_tables"),
    ("ComparisonRow", {"feature": LINE}, "table__revision", "comparison_tables"),
    ("ComparisonCell", {"text": BLOCK}, "row__table__revision", "comparison_tables"),
    ("ActionStep", {"title": LINE, "body": BLOCK}, "revision", "action_steps"),
    ("SafetyCallout", {"title": LINE, "body": BLOCK}, "revision", "callouts"),
    (
        "Reference",
        {
            "authors": LINE,
            "title": LINE,
            "container_title": LINE,
            "publisher": LINE,
            "volume": LINE,
            "issue": LINE,
            "pages": LINE,
            "verification_note": BLOCK,
        },
        "revision",
        "references",
    ),
)


def normalise_existing_text(apps, schema_editor):
    changes = {}
    Revision = apps.get_model("articles", "Revision")
    heads = Revision.objects.filter(state__in=EDITABLE_STATES).values_list(
        "pk", "title", "topic", "summary", "change_summary"
    )
    for pk, *values in heads.iterator():
        fields = {"title": LINE, "topic": LINE, "summary": BLOCK, "change_summary": LINE}
        old = dict(zip(fields, values, strict=True))
        removed = set()
        new = {name: stored_text(value, fields[name], removed) for name, value in old.items()}
        if new != old:
            Revision.objects.filter(pk=pk).update(**new)
            names, characters = changes.setdefault(pk, (set(), set()))
            names.update(name for name in old if new[name] != old[name])
            characters.update(removed)
    for model_name, fields, revision_path, label in CONTENT_ROWS:
        normalise_rows(apps, "articles", model_name, fields, revision_path, label, changes)
    record_changes(apps, changes, "Text")
    normalise_vocabulary(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0020_text_field_limits"),
    ]

    operations = [
        migrations.RunPython(normalise_existing_text, migrations.RunPython.noop, elidable=False),
    ]
