"""How many articles are live, kept by the one writer so that lists read counts, not articles.

The home page counts live articles per medication and per topic. Counting them
on every read costs time in proportion to the library; ``LiveTally`` keeps one
row per (kind, medication, topic) instead, moved by ``articles.live.public_change``
inside every transaction that changes what is live, so a read costs time in
proportion to the vocabulary. Each article remembers the topic it is counted
under (``Article.tallied_topic``), so a change moves the count from where the
article was to where it is now, and a repeated change moves nothing.

The tallies count *recorded* live revisions (state ``published``). A scheduled
revision goes live at its time without any write; the reads below add the few
due but unrecorded ones (``Revision.objects.due_for_publication()``), so the
counts always agree with ``Revision.objects.published()``.

``LiveSymptomTally`` does the same per (kind, symptom): how many articles' recorded
live revisions show the symptom, so the symptom list and pages ask which symptoms
live content shows of the tallies, not of every row that ever showed one (a
symptom only replaced revisions show read all its rows: 20,000 at 20,000
articles). Each article remembers the revision it is counted by
(``Article.tallied_revision``); a revision's symptom rows never change once it is
submitted (only drafts are edited), so that revision's symptoms are the ones to
take the article off when another goes live.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import connections, models
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Greatest

from ..limits import MAX_TITLE_CHARS
from .articles import Article, Revision, RevisionState, symptom_references
from .medications import Medication, Symptom

logger = logging.getLogger(__name__)

# (kind, medication id, topic): where one live article is counted.
TallyKey = tuple[str, int, str]


class LiveTallyQuerySet(models.QuerySet["LiveTally"]):
    def count_by_medication(self, kind: str) -> dict[int, int]:
        """Live ``kind`` content per medication id, as ``Revision.objects.published()`` would count it."""
        counts: Counter[int] = Counter(
            dict(
                self.filter(kind=kind).order_by().values_list("medication_id").annotate(total=Sum("count"))  # type: ignore[arg-type]
            )
        )
        for (_, medication_id, _), change in _due_adjustment(kind).items():
            counts[medication_id] += change
        return {medication_id: count for medication_id, count in counts.items() if count > 0}

    def count_by_topic(self, kind: str) -> list[dict[str, Any]]:
        """Rows of (``topic``, ``count``) of live ``kind`` content, the most written-about first."""
        counts: Counter[str] = Counter(
            dict(self.filter(kind=kind).order_by().values_list("topic").annotate(total=Sum("count")))  # type: ignore[arg-type]
        )
        for (_, _, topic), change in _due_adjustment(kind).items():
            counts[topic] += change
        rows = [{"topic": topic, "count": count} for topic, count in counts.items() if count > 0]
        return sorted(rows, key=lambda row: (-row["count"], row["topic"]))

    def move(self, changes: Counter[TallyKey]) -> None:
        """Add ``changes`` to the tallies: rows are created as needed and dropped when they reach zero.

        Called only by ``articles.live.public_change``, which holds the public clock's row lock,
        so no two transactions move tallies at once.
        """
        _move(self, changes, ("kind", "medication_id", "topic"))


def _move(tallies: models.QuerySet[Any], changes: Counter[Any], fields: tuple[str, ...]) -> None:
    """Add ``changes`` (by key: the values of ``fields``) to ``tallies``' counts, making and dropping rows."""
    emptied = Q(pk__in=[])
    for values, change in sorted(changes.items()):
        if not change:
            continue
        key = dict(zip(fields, values, strict=True))
        if tallies.filter(**key).update(count=Greatest(F("count") + change, 0)):
            emptied |= Q(**key, count=0)
        elif change > 0:
            tallies.create(**key, count=change)
        else:
            # A tally lost track (a write that bypassed the services): never block a publication
            # or a withdrawal over a count; ``rebuild_live_tallies`` puts it right.
            logger.error("live tally %s would go below zero; run rebuild_live_tallies", key)
    tallies.filter(emptied).delete()


class LiveTally(models.Model):
    """How many articles of ``kind`` about ``medication`` have a recorded live revision on ``topic``."""

    kind = models.CharField(max_length=20)
    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=MAX_TITLE_CHARS)
    count = models.PositiveIntegerField()

    objects = LiveTallyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "medication", "topic"], name="livetally_unique_key"),
            models.CheckConstraint(condition=Q(count__gte=0), name="livetally_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.medication_id} {self.topic}: {self.count}"


# (kind, symptom id): where one live article is counted by a symptom its live revision shows.
SymptomTallyKey = tuple[str, int]


class LiveSymptomTallyQuerySet(models.QuerySet["LiveSymptomTally"]):
    def move(self, changes: Counter[SymptomTallyKey]) -> None:
        """Add ``changes`` to the tallies, as ``LiveTally.objects.move`` (and under the same lock)."""
        _move(self, changes, ("kind", "symptom_id"))


class LiveSymptomTally(models.Model):
    """How many articles of ``kind`` have a recorded live revision some content row of which shows ``symptom``."""

    kind = models.CharField(max_length=20)
    symptom = models.ForeignKey(Symptom, on_delete=models.CASCADE, related_name="+", db_index=False)
    count = models.PositiveIntegerField()

    objects = LiveSymptomTallyQuerySet.as_manager()

    class Meta:
        constraints = [
            # Its index is the one a symptom's tallies are read by (``SymptomQuerySet.in_live_content``).
            models.UniqueConstraint(fields=["symptom", "kind"], name="livesymptomtally_unique_key"),
            models.CheckConstraint(condition=Q(count__gte=0), name="livesymptomtally_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.symptom_id}: {self.count}"


def symptoms_by_revision(revision_ids: list[int]) -> dict[int, set[int]]:
    """The symptoms each of ``revision_ids`` shows (by any kind of content row): one query per kind of row and per
    thousand revisions, reading only their rows."""
    shown: dict[int, set[int]] = {revision_id: set() for revision_id in revision_ids}
    for start in range(0, len(revision_ids), 1000):
        chunk = revision_ids[start : start + 1000]
        for reference in symptom_references():
            column = f"{reference.symptom_field}_id"
            rows = reference.model._default_manager.filter(revision_id__in=chunk, **{f"{column}__isnull": False})
            for revision_id, symptom_id in rows.order_by().values_list("revision_id", column).distinct():
                shown[revision_id].add(symptom_id)
    return shown


def _due_adjustment(kind: str) -> Counter[TallyKey]:
    """What the due but unrecorded scheduled publications change in the tallies: one query over a few rows.

    Each one hides its article's recorded live revision (counted under
    ``tallied_topic``) and counts under its own topic.
    """
    changes: Counter[TallyKey] = Counter()
    # Every due schedule, of any kind, from the partial index of scheduled revisions
    # (``revision_one_scheduled_per_article``): filtering on the article's kind in SQL lets
    # SQLite walk every article of the kind instead.
    due = Revision.objects.due_for_publication().order_by()
    for of_kind, medication_id, tallied_topic, topic in due.values_list(
        "article__kind", "article__medication_id", "article__tallied_topic", "topic"
    ):
        if of_kind != kind:
            continue
        if tallied_topic is not None:
            changes[(kind, medication_id, tallied_topic)] -= 1
        changes[(kind, medication_id, topic)] += 1
    return changes


def fill_live_tallies(
    article_model: type[models.Model] = Article,
    revision_model: type[models.Model] = Revision,
    tally_model: type[models.Model] = LiveTally,
) -> int:
    """Count every article from scratch by its recorded live revision; returns how many are counted.

    Set-wise (one UPDATE and one grouped INSERT, whatever the library's size). Takes
    the models so the data migration can pass its historical ones. The caller holds
    the public clock's row lock (``rebuild_live_tallies``) or is the only writer.
    """
    live_topic = revision_model._default_manager.filter(
        article_id=OuterRef("pk"), state=RevisionState.PUBLISHED.value
    ).values("topic")[:1]
    articles = article_model._default_manager
    articles.update(tallied_topic=Subquery(live_topic))
    tally_model._default_manager.all().delete()
    rows = (
        articles.filter(tallied_topic__isnull=False)
        .order_by()
        .values_list("kind", "medication_id", "tallied_topic")
        .annotate(total=Count("pk"))
    )
    tallies = [
        tally_model(kind=kind, medication_id=medication_id, topic=topic, count=total)
        for kind, medication_id, topic, total in rows
    ]
    tally_model._default_manager.bulk_create(tallies, batch_size=1000)
    return sum(tally.count for tally in tallies)


def fill_live_symptom_tallies(
    article_model: type[models.Model] = Article,
    revision_model: type[models.Model] = Revision,
    tally_model: type[models.Model] = LiveSymptomTally,
    references: Sequence[tuple[type[models.Model], str]] | None = None,
) -> int:
    """Count every article from scratch under the symptoms its recorded live revision shows; returns how many
    (article, symptom) pairs are counted.

    Set-wise (one UPDATE and one grouped INSERT ... SELECT over the rows of every kind that show a symptom,
    whatever the library's size). ``references``: the (row model, symptom field) of each kind of row
    (``symptom_references``), which the data migration finds among its historical models. As
    ``fill_live_tallies``, the caller holds the public clock's row lock or is the only writer.
    """
    if references is None:
        references = [(reference.model, reference.symptom_field) for reference in symptom_references()]
    live = revision_model._default_manager.filter(article_id=OuterRef("pk"), state=RevisionState.PUBLISHED.value)
    articles = article_model._default_manager
    articles.update(tallied_revision=Subquery(live.values("pk")[:1]))
    tallies = tally_model._default_manager
    tallies.all().delete()
    if not references:
        return 0
    connection = connections[tallies.db]
    quote = connection.ops.quote_name

    def column(model: type[models.Model], field: str) -> str:
        return quote(model._meta.get_field(field).column)

    # Each (revision, symptom) once, whichever kinds of row show it: a tallied revision is one article's. Every name
    # in the SQL is quoted from the models' own metadata; there are no values in it.
    shown = " UNION ".join(
        f"SELECT {column(model, 'revision')} AS revision_id, {column(model, field)} AS symptom_id"  # noqa: S608
        f" FROM {quote(model._meta.db_table)} WHERE {column(model, field)} IS NOT NULL"
        for model, field in references
    )
    kind = column(article_model, "kind")
    insert = f"INSERT INTO {quote(tally_model._meta.db_table)} ({column(tally_model, 'kind')},"
    insert += f" {column(tally_model, 'symptom')}, {column(tally_model, 'count')})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"{insert} SELECT a.{kind}, shown.symptom_id, COUNT(*) FROM ({shown}) shown"  # noqa: S608
            f" JOIN {quote(article_model._meta.db_table)} a"
            f" ON a.{column(article_model, 'tallied_revision')} = shown.revision_id GROUP BY a.{kind}, shown.symptom_id"
        )
    return int(tallies.aggregate(total=Sum("count"))["total"] or 0)
