"""The bench's data: the demo, a 30-section article and N live articles, loaded fast and idempotently.

Run as ``python -m bench.fixtures --size N`` with ``DATABASE_URL`` set (the bench does it, in a
process of its own so that each database gets its own Django). Prints one line of JSON: the
facts the bench's requests need (slugs, a partner key, codes, filter values).

The demo and the long article go through the review workflow (as ``load_demo`` does); the bulk
rows are written directly, in big batches, with the shapes of ``tests/api/bulk.py``: one live
revision per article, spread over ``MEDICATION_COUNT`` medications, all showing one symptom (so a
SNOMED CT lookup matches every article), published a minute apart going back from now. The bulk
rows bypass the services, which store a live article's page when it changes; the pages are not
stored here, with base settings, but by the bench with its servers' (``bench.groups.store_pages``):
a page is stored for the release of the static files it links to, which these settings do not name.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from deploy.servers import setup_django_for_script

ROOT = Path(__file__).resolve().parent.parent
DEMO_PATHWAY_SLUG = "numbness-tingling-weakness-amlodipine"
LONG_SLUG = "amlodipine-peripheral-neuropathy-30-sections"
DEMO_SLUG = "amlodipine-peripheral-neuropathy"
LONG_SECTIONS = 30
MEDICATION_COUNT = 20
BATCH = 5_000
BULK_PREFIX = "bench"
SYMPTOM_CODE = "999000111"  # a valid-looking SNOMED CT id that no real content uses
# Made-up medicines with RxCUIs far from real ones: realistic slugs and titles, selective filters.
MEDICATION_STEMS = (
    "abrazine", "belotrex", "calvimab", "dorafenil", "elmoxan", "fentaloride", "gavestrin", "halopraxil",
    "irbenzol", "jutamycin", "keltrovir", "lumisartan", "morvazide", "nebrafen", "oxatrelin", "pravocaine",
    "quilostat", "rinuvadol", "sertabene", "tolvexamine",
)  # fmt: skip
SYMPTOM_TOPICS = (
    ("dizziness", "Dizziness"),
    ("headache", "Headache"),
    ("swollen-ankles", "Swollen ankles"),
    ("dry-cough", "A dry cough"),
    ("muscle-pain", "Muscle pain"),
    ("skin-rash", "A skin rash"),
    ("tiredness", "Tiredness"),
    ("nausea", "Nausea"),
)
# Updated within this window: the ``?updated_since=`` filter matches about this many articles at any size.
RECENT_MINUTES = 20
BULK_SLUG = r"-[0-9]{6}$"  # bulk articles' slugs end in their number


def setup_django() -> None:
    setup_django_for_script("bench")


def long_document(sections: int = LONG_SECTIONS) -> dict[str, Any]:
    """The demo article's export with ``sections`` sections (the demo's, repeated with new keys)."""
    document = json.loads((ROOT / "articles/demo/amlodipine-peripheral-neuropathy.json").read_text())
    document = copy.deepcopy(document)
    document["article"]["slug"] = LONG_SLUG
    revision = document["revision"]
    revision["title"] = revision["title"][:60] + f" ({sections} sections)"
    original = revision["sections"]
    # The demo's own sections keep their keys (its other rows point at them); repeats get new ones.
    revision["sections"] = [
        {**original[n % len(original)], "position": n + 1}
        | (
            {}
            if n < len(original)
            else {"key": f"part-{n + 1}", "heading": f"{original[n % len(original)]['heading']} ({n + 1})"}
        )
        for n in range(sections)
    ]
    return document


def publish_document(document: dict[str, Any]) -> None:
    """Import, submit, approve and publish ``document`` with the demo accounts, as ``load_demo`` does."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from articles import services
    from articles.content_checks import check_revision
    from articles.demo.loading import AUTHOR, PUBLISHER, REVIEWER
    from articles.models import Revision

    users = get_user_model().objects
    author, reviewer, publisher = (users.get(username=a.username) for a in (AUTHOR, REVIEWER, PUBLISHER))
    with transaction.atomic():
        revision = services.article_import(document=document, actor=author)
        revision = services.revision_submit(revision=revision, actor=author)
        warnings = check_revision(Revision.objects.with_content().get(pk=revision.pk)).warning_codes
        revision = services.revision_approve(
            revision=revision,
            actor=reviewer,
            content_hash_seen=revision.content_hash,
            acknowledged_warnings=warnings,
            comment="Bench approval.",
        )
        services.revision_publish(revision=revision, actor=publisher)


def bench_medications() -> list[Any]:
    from articles.models import Medication

    medications = []
    for n, stem in enumerate(MEDICATION_STEMS):
        medication, _ = Medication.objects.get_or_create(
            slug=stem,
            defaults={
                "generic_name": stem.capitalize(),
                "brand_names": [stem[:4].capitalize() + "ex"],
                "rxnorm_rxcui": str(990_001 + n),
            },
        )
        medications.append(medication)
    return medications


def bulk_load(count: int, *, start: int, now: datetime) -> None:
    """``count`` live articles numbered from ``start``, in batches of ``BATCH`` rows per table."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from articles.demo.loading import REVIEWER
    from articles.models import Symptom

    reviewer = get_user_model().objects.get(username=REVIEWER.username)
    medications = bench_medications()
    symptom, _ = Symptom.objects.get_or_create(
        slug=f"{BULK_PREFIX}-symptom",
        defaults={
            "name": "Bench symptom",
            "description": "Shown by every bulk article.",
            "snomed_ct_code": SYMPTOM_CODE,
        },
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")  # scratch data: no need to wait for the disk
    for first in range(start, start + count, BATCH):
        numbers = range(first, min(first + BATCH, start + count))
        with transaction.atomic():
            _bulk_batch(numbers, medications=medications, symptom=symptom, reviewer=reviewer, now=now)


def _bulk_batch(numbers: range, *, medications: list[Any], symptom: Any, reviewer: Any, now: datetime) -> None:
    from articles.models import (
        Article,
        ChangeEvent,
        ClinicalReview,
        Reference,
        Revision,
        RevisionState,
        Section,
        SymptomEntry,
    )

    def slug(n: int) -> str:
        return f"{medications[n % len(medications)].slug}-{SYMPTOM_TOPICS[n % len(SYMPTOM_TOPICS)][0]}-{n:06d}"

    articles = Article.objects.bulk_create(
        [Article(slug=slug(n), medication=medications[n % len(medications)]) for n in numbers], batch_size=BATCH
    )
    revisions = Revision.objects.bulk_create(
        [
            Revision(
                article=article,
                number=1,
                state=RevisionState.PUBLISHED,
                title=f"{article.medication.generic_name} and {SYMPTOM_TOPICS[n % len(SYMPTOM_TOPICS)][1].lower()}",
                topic=SYMPTOM_TOPICS[n % len(SYMPTOM_TOPICS)][1],
                summary=f"What to do about {SYMPTOM_TOPICS[n % len(SYMPTOM_TOPICS)][1].lower()} "
                f"while taking {article.medication.generic_name.lower()} (bench article {n}).",
                change_summary="First version.",
                published_at=now - timedelta(minutes=n + 1),
                content_hash="0" * 64,
                review_due=(now + timedelta(days=365)).date(),  # its review's, below
            )
            for n, article in zip(numbers, articles, strict=True)
        ],
        batch_size=BATCH,
    )
    Section.objects.bulk_create(
        [
            Section(revision=revision, key=f"s{k}", position=k, heading=f"Heading {k}", body=f"Body text [@r]. {k}")
            for revision in revisions
            for k in (1, 2)
        ],
        batch_size=BATCH,
    )
    Reference.objects.bulk_create(
        [
            Reference(
                revision=revision,
                key="r",
                position=1,
                publication_type="web_page",
                title="T",
                url="https://example.org/",
            )
            for revision in revisions
        ],
        batch_size=BATCH,
    )
    SymptomEntry.objects.bulk_create(
        [SymptomEntry(revision=revision, symptom=symptom, key="e", position=1, text="T.") for revision in revisions],
        batch_size=BATCH,
    )
    ClinicalReview.objects.bulk_create(
        [
            ClinicalReview(
                revision=revision,
                kind="approval",
                reviewer=reviewer,
                reviewer_name="Dr R",
                reviewer_credentials="MBBS",
                reviewed_at=revision.published_at,
                next_review_due=(now + timedelta(days=365)).date(),
                content_hash="0" * 64,
            )
            for revision in revisions
        ],
        batch_size=BATCH,
    )
    ChangeEvent.objects.bulk_create(
        [
            ChangeEvent(
                article=revision.article, revision=revision, kind="published", occurred_at=revision.published_at
            )
            for revision in revisions
        ],
        batch_size=BATCH,
    )


def _analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would give them a little later."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def ensure(size: int) -> dict[str, Any]:
    """Bring the database to ``size`` live articles (demo included); return the facts the requests need."""
    from django.core.management import call_command
    from django.db.models import Max
    from django.utils import timezone

    from articles.models import Article, Medication, Revision, Symptom
    from partners.models import Partner
    from partners.services import partner_key_create
    from triage.models import PATHWAY

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    if not Article.objects.filter(slug=LONG_SLUG).exists():
        publish_document(long_document())
    live = Revision.objects.published().articles()
    bulk = Article.objects.filter(slug__regex=BULK_SLUG)
    missing = size - live.count()
    now = timezone.now()
    if missing > 0:
        bulk_load(missing, start=bulk.count(), now=now)
        # Rows written in bulk bypass the services: give them what the services keep beside them.
        call_command("rebuild_live_tallies", stdout=io.StringIO())
        call_command("rebuild_search_index", stdout=io.StringIO())
        _analyze()
    # auto_now stamps of the vocabulary would make every article "updated" just now.
    old = now - timedelta(days=400)
    Medication.objects.filter(slug__in=MEDICATION_STEMS).update(updated_at=old)
    Symptom.objects.filter(slug=f"{BULK_PREFIX}-symptom").update(updated_at=old)
    newest = Revision.objects.filter(article__slug__regex=BULK_SLUG).aggregate(newest=Max("published_at"))["newest"]
    recent = (newest or now) - timedelta(minutes=RECENT_MINUTES)
    partner, _ = Partner.objects.get_or_create(name="Bench partner")
    _, key = partner_key_create(partner=partner, name="bench")
    # The demo's numbness pathway, every question answered (its stroke question "yes"): a whole evaluation.
    pathways = Revision.objects.published().of_kind(PATHWAY)
    pathway = pathways.filter(article__slug=DEMO_PATHWAY_SLUG).first() or pathways.first()
    answers = {q.key: "no" for q in pathway.triage_questions.all()} if pathway else {}
    if "stroke" in answers:
        answers["stroke"] = "yes"
    return {
        "live_articles": live.count(),
        "api_key": key,
        "demo_slug": DEMO_SLUG,
        "long_slug": LONG_SLUG,
        "pathway_slug": pathway.article.slug if pathway else "",
        "answers": answers,
        "medication": MEDICATION_STEMS[3],
        "rxcui": str(990_001 + 3),
        "snomed": SYMPTOM_CODE,
        "updated_since": recent.isoformat().replace("+00:00", "Z"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, required=True, help="live articles wanted (demo included)")
    size = parser.parse_args().size
    setup_django()
    print(json.dumps(ensure(size)))


if __name__ == "__main__":
    main()
