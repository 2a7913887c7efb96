"""Articles (stable identities) and their revisions (immutable once submitted)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.lookups import IsNull
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from ..kinds import kind_choices, kind_for, validate_registered_kind
from ..limits import CONTENT_HASH_CHARS, MAX_LINE_CHARS, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS
from ..text import TextBlockField, TextLineField
from .lookups import AmongIds
from .medications import Medication, Symptom, validate_new_slug


class ArticleKind(models.TextChoices):
    """The kind ``articles`` itself owns; other apps register theirs in ``articles.kinds``."""

    ARTICLE = "article", "Article"


class Withdrawn(Exception):
    """Nothing is live at this address because it was withdrawn: pages and the API answer 410 Gone."""


class ArticleQuerySet(models.QuerySet["Article"]):
    def withdrawn(self) -> ArticleQuerySet:
        """Articles taken off the site (their address answers 410 Gone while nothing of theirs is live)."""
        return self.filter(revisions__state=RevisionState.WITHDRAWN).distinct()

    def using_vocabulary(self, entry: Medication | Symptom) -> ArticleQuerySet:
        """Articles (of any kind) that show ``entry`` now or will once a revision of theirs goes live.

        A medication is the article's own; a symptom is shown by any revision whose
        content rows refer to it (see ``symptom_references``).
        """
        if isinstance(entry, Medication):
            return self.filter(medication=entry)
        condition = Q(pk__in=[])
        for reference in symptom_references():
            rows = reference.model._default_manager.filter(**{reference.symptom_field: entry})
            condition |= Q(pk__in=rows.values("revision__article_id"))
        return self.filter(condition)

    def ids_using_vocabulary(self, entry: Medication | Symptom, *, limit: int) -> list[int]:
        """Up to ``limit`` ids, in no particular order, of the articles ``using_vocabulary`` finds, read by index from
        the rows that show ``entry``: as few rows as it takes, however many articles show it (an OR of subqueries,
        ordered by slug, walked the whole article table for an entry few articles show)."""
        if isinstance(entry, Medication):
            return list(self.filter(medication=entry).order_by().values_list("pk", flat=True)[:limit])
        found: dict[int, None] = {}
        # In a transaction, the server-side cursor is read as it goes: outside one it is held past the commit, and
        # PostgreSQL reads all of it first (every row showing a common symptom: 0.2 s at 100,000).
        with transaction.atomic():
            for reference in symptom_references():
                rows = reference.model._default_manager.filter(**{reference.symptom_field: entry}).order_by()
                # An article's revisions, and a revision's rows, may each show it: read on until ``limit`` articles.
                for article_id in rows.values_list("revision__article_id", flat=True).iterator(chunk_size=limit):
                    found[article_id] = None
                    if len(found) >= limit:
                        return list(found)
        return list(found)

    def sharing_symptoms_with(self, revision_id: int, *, kind: str) -> ArticleQuerySet:
        """``kind`` content with a revision live or scheduled that shows a symptom revision ``revision_id`` shows.

        The pages that link to that revision's content by symptom (``ContentKind.article_links_heading``):
        a change to what is live of it changes them too.
        """
        return self.showing_any_of(Symptom.objects.shown_by_revision(revision_id).values("pk"), kinds=[kind])

    def showing_any_of(
        self, symptoms: Collection[int] | models.QuerySet[Any], *, kinds: Collection[str]
    ) -> ArticleQuerySet:
        """Content of ``kinds`` with a revision live or scheduled that shows one of ``symptoms`` (ids, or a query of
        them): ``sharing_symptoms_with`` once the symptoms are known."""
        public = Revision.objects.filter(state__in=[RevisionState.PUBLISHED, RevisionState.SCHEDULED])
        return self.filter(kind__in=kinds, pk__in=public.showing_symptoms(symptoms).values("article_id"))

    def linking_to(self, article: Article) -> ArticleQuerySet:
        """The articles whose pages link, or may come to link, to ``article`` by a symptom: articles with a revision
        live or scheduled that shows a symptom some revision of it shows. Its public changes stamp them
        (``services._linking_articles``, a subset of these), so its steps lock them first (``in_lock_order``).
        None unless its kind is one that articles' pages link to (``articles.kinds.linked_from_articles``).
        """
        from ..kinds import linked_from_articles

        if article.kind not in {kind.name for kind in linked_from_articles()}:
            return self.none()
        shown = Symptom.objects.shown_by_article(article.pk)
        public = Revision.objects.filter(state__in=[RevisionState.PUBLISHED, RevisionState.SCHEDULED])
        return self.filter(
            kind=ArticleKind.ARTICLE, pk__in=public.showing_symptoms(shown.values("pk")).values("article_id")
        ).exclude(pk=article.pk)

    def in_lock_order(self) -> ArticleQuerySet:
        """The one order in which any transaction locks several articles: content whose public changes stamp other
        pages (the kinds articles' pages link to, ``linking_to``) first, then the rest, each by id. A step on such
        content holds its own lock, then takes those pages' (before the public clock's, as every public change does);
        anything locking a set of articles (a vocabulary change) takes them in this order, so none waits in a circle.
        """
        from ..kinds import linked_from_articles

        linked = [kind.name for kind in linked_from_articles()]
        return self.order_by(Case(When(kind__in=linked, then=Value(0)), default=Value(1)), "pk")

    def last_id(self, *, kind: str) -> int:
        """The highest id of ``kind`` content (0 if none): one index lookup, for ranges of ids that page a list."""
        return self.filter(kind=kind).aggregate(last=Max("pk"))["last"] or 0


class Article(models.Model):
    """The stable identity of a piece of content; its words live in revisions.

    Other kinds of reviewed content (registered in ``articles.kinds``) are
    articles of another kind, so they share the revisions, the review workflow
    and the audit log.
    """

    slug = models.SlugField(max_length=120, unique=True, help_text="The stable public address; never reused.")
    kind = models.CharField(
        max_length=20,
        choices=kind_choices,
        validators=[validate_registered_kind],
        default=ArticleKind.ARTICLE,
        editable=False,
        help_text="A kind registered in articles.kinds by the app that owns it.",
    )
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="articles")
    created_at = models.DateTimeField(auto_now_add=True)
    # What readers and partners see of this article changed at public clock ``public_version``
    # (a publication, replacement, withdrawal, review of the live revision or change to its
    # vocabulary), last at ``public_updated_at``. Written only by ``articles.live.public_change``.
    public_version = models.PositiveBigIntegerField(default=0, editable=False)
    public_updated_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    # The topic this article is counted under in ``LiveTally`` (its recorded live revision's), or
    # None while it is not counted (NULL, not "": no topic may stand for "not counted").
    # Written only by ``articles.live.public_change`` (and ``fill_live_tallies``).
    tallied_topic = models.CharField(max_length=MAX_TITLE_CHARS, null=True, blank=True, editable=False)  # noqa: DJ001
    # The revision whose symptoms this article is counted under in ``LiveSymptomTally`` (its recorded live
    # one), or None while it is not counted. A memo like ``tallied_topic``, not a link to keep: no database
    # constraint and no index (read only from the article), and a revision's symptoms never change once it is
    # submitted, so the id says which symptoms to take the article off when another revision goes live.
    # Written only by ``articles.live.public_change`` (and ``fill_live_symptom_tallies``).
    tallied_revision = models.ForeignKey(
        "Revision",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        indexes = [
            # Sitemap pages are ranges of ids of one kind; a medicine's page walks its articles by slug;
            # the home page reads the latest public changes of a kind.
            models.Index(fields=["kind", "id"], name="article_kind_id"),
            models.Index(fields=["kind", "public_updated_at", "id"], name="article_kind_public_updated"),
            models.Index(fields=["kind", "medication", "slug"], name="article_kind_medication_slug"),
            # The partner list filtered by medication, in slug order, read from the index.
            models.Index(fields=["medication", "slug"], name="article_medication_slug"),
        ]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse(kind_for(self.kind).url_name, kwargs={"slug": self.slug})

    def clean(self) -> None:
        super().clean()
        validate_new_slug(self)


class RevisionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn"
    ARCHIVED = "archived", "Archived"


# Only these states accept content changes; every other state is frozen.
EDITABLE_STATES = frozenset({RevisionState.DRAFT, RevisionState.CHANGES_REQUESTED})
# A live revision is in one of these (a scheduled one is live from its time, before ``publish_scheduled`` records it).
LIVE_STATES = [RevisionState.PUBLISHED, RevisionState.SCHEDULED]
# ``updated_since``: up to this many articles changed since, gathered from the indexes of changes; more, asked per
# live row in the page's order (a page then reads about a page times the library over those changed: 100 at most).
UPDATED_SINCE_FEW = 1000
# ``mentioning_after``: a symptom shown by fewer rows of a kind than this is read from them; by more, asked per row in
# the page's order (a page then reads about a page times the library over those rows).
SYMPTOM_ROWS_FEW = 1000


def having_rows(rows: models.QuerySet[Any], *, widely: bool) -> Any:
    """The condition on a revision that one of ``rows`` (content rows of one kind) is its own, in a shape chosen by
    how many there are (``widely``: at least ``SYMPTOM_ROWS_FEW``), not by what the planner expects of them.

    Few: read by index in revision order (``symptomentry_symptom_revision``) and their revisions then by id
    (``AmongIds``). Many: asked of each revision, read in the list's order, up to its page's end, as a scalar
    subquery that is never made a join."""
    if widely:
        return IsNull(Subquery(rows.filter(revision=OuterRef("pk")).order_by().values("pk")[:1]), False)
    return AmongIds(F("pk"), rows.order_by("revision_id").values("revision_id")[:SYMPTOM_ROWS_FEW])


def showing_symptom_coded(code: str) -> Any:
    """The condition on a revision that a symptom entry of it shows the symptom with SNOMED CT code ``code``
    (``having_rows``; the lookup by code, ``articles.api.views``).

    The planner knew only the vocabulary's average (the symptom is known only once the code is read): with hundreds
    of symptoms it expected a few dozen rows for one every article shows, and gathered, joined and sorted all
    20,000; with statistics from before a symptom was split, thousands for one 20 articles show, and walked all
    20,000 articles for them (``tests/api/test_plans.py``). The symptoms' ids are read first, so that the count of
    their rows is read by index."""
    from .content import SymptomEntry

    symptoms = list(Symptom.objects.filter(snomed_ct_code=code).values_list("pk", flat=True))
    rows = SymptomEntry.objects.filter(symptom__in=symptoms)
    # Its ``SYMPTOM_ROWS_FEW``th row in revision order, asked in that order (``exists()`` drops it, and the table was
    # read whole for it): by index, ``SYMPTOM_ROWS_FEW`` entries at most.
    last = rows.order_by("revision_id").values_list("revision_id", flat=True)[SYMPTOM_ROWS_FEW - 1 : SYMPTOM_ROWS_FEW]
    return having_rows(rows, widely=bool(list(last)))


def content_prefetches() -> list[Prefetch | str]:
    """The content aggregate's rows, in order, as lookups for ``prefetch_related`` or ``prefetch_related_objects``.

    ``with_content()`` fetches them with the revision; a caller that has the
    revision already (and may not need its rows) fetches them onto it later.
    """
    from .content import ActionStep, ComparisonRow, ComparisonTable, Reference, SafetyCallout, Section, SymptomEntry

    return [
        Prefetch("sections", queryset=Section.objects.order_by("position", "key")),
        Prefetch("symptom_entries", queryset=SymptomEntry.objects.select_related("symptom").order_by("position")),
        Prefetch("comparison_tables", queryset=ComparisonTable.objects.order_by("position", "key")),
        "comparison_tables__columns",
        Prefetch("comparison_tables__rows", queryset=ComparisonRow.objects.order_by("position", "key")),
        "comparison_tables__rows__cells",
        Prefetch("action_steps", queryset=ActionStep.objects.order_by("position", "key")),
        Prefetch("callouts", queryset=SafetyCallout.objects.order_by("position", "key")),
        Prefetch("references", queryset=Reference.objects.order_by("position", "key")),
    ]


class RevisionQuerySet(models.QuerySet["Revision"]):
    def _live_now(self) -> Q:
        """The condition on a revision of being live now: the one rule of ``published()`` and ``with_is_current()``.

        A scheduled revision is live from its publication time, whether or not
        ``publish_scheduled`` has recorded the change yet; from then on it hides
        the revision it replaces.
        """
        due = Q(state=RevisionState.SCHEDULED, publish_at__lte=timezone.now())
        # A correlated NOT EXISTS, probed through the partial index of scheduled revisions:
        # it lets PostgreSQL walk a page's articles by index and stop at the page's end
        # (tests/api/test_plans.py); NOT IN made it hash-join the whole revision table.
        replaced = Exists(self.model.objects.filter(due, article=OuterRef("article_id")))
        return due | (Q(state=RevisionState.PUBLISHED) & ~replaced)

    def published(self) -> RevisionQuerySet:
        """The live revision of each article: the only way public pages and the API reach content.

        A scheduled revision is live from its publication time, whether or not
        ``publish_scheduled`` has recorded the change yet; from then on it hides
        the revision it replaces.
        """
        return self.filter(self._live_now())

    def with_is_current(self) -> RevisionQuerySet:
        """Annotate ``is_current``: whether the revision is the live one now, as ``published()`` decides.

        For showing revisions that may no longer be live (a feed, a history) as current or replaced:
        ``Revision.is_live`` reads the state alone, and a published revision stays so until a due
        scheduled one that hides it is recorded.
        """
        return self.annotate(is_current=ExpressionWrapper(self._live_now(), output_field=models.BooleanField()))

    def count_by_medication(self) -> dict[int, int]:
        """How many of these are about each medication, by its id: one grouped query on integers."""
        rows = self.order_by().values_list("article__medication_id").annotate(count=Count("pk"))
        return dict(rows)  # type: ignore[arg-type]

    def count_by_topic(self) -> models.QuerySet[Any]:
        """Rows of (``topic``, ``count``), the most written-about first: one grouped query."""
        return self.order_by().values("topic").annotate(count=Count("pk")).order_by("-count", "topic")

    def recently_updated(self, kind: str, *, limit: int) -> RevisionQuerySet:
        """At most ``limit`` of these, newest public change first (``Article.public_updated_at``).

        Reads the ``limit * 5`` latest-changed articles of ``kind`` from an index,
        then their revisions by those ids: bounded at any size of library. (Fewer
        than ``limit`` only if most of the latest changes took articles off the site.)
        The ids are read first, in their own query: as a subquery next to a filter
        on the article's kind, SQLite walked every article of the kind instead.
        """
        latest = list(
            Article.objects.filter(kind=kind, public_updated_at__isnull=False)
            .order_by("-public_updated_at", "-id")
            .values_list("pk", flat=True)[: limit * 5]
        )
        return (
            self.filter(article_id__in=latest)
            .select_related("article")
            .order_by("-article__public_updated_at", "-article_id")[:limit]
        )

    def of_medication_after(self, medication_id: int, *, after: str = "", before: str = "") -> RevisionQuerySet:
        """One medication's revisions by article slug, from a keyset cursor: any page costs what the first does.

        ``after``: slugs after it, A to Z; ``before``: slugs before it, Z to A (reverse the slice).
        """
        revisions = self.filter(article__medication_id=medication_id)
        if before:
            return revisions.filter(article__slug__lt=before).order_by("-article__slug")
        if after:
            revisions = revisions.filter(article__slug__gt=after)
        return revisions.order_by("article__slug")

    def mentioning_after(self, symptom_id: int, *, after: str = "") -> RevisionQuerySet:
        """Revisions whose content shows symptom ``symptom_id``, by article slug after ``after``: a keyset page.

        Of each kind of row, those that show it, if fewer than ``SYMPTOM_ROWS_FEW``, are read by index in revision
        order (``symptomentry_symptom_revision``) and their revisions by id; a kind that shows it more widely is
        asked of each revision, read in the page's order, up to the page's end. The shape is chosen by the rows
        counted (one query), not by what the planner expects of a symptom. Asked of each revision alone (an OR of one
        EXISTS per kind, which no plan reads by index), a symptom a few articles show walked the whole library for
        them (``tests/articles/test_search_plans.py``).
        """
        kinds = [
            reference.model._default_manager.filter(**{f"{reference.symptom_field}_id": symptom_id})
            for reference in symptom_references()
        ]
        # For each kind, its ``SYMPTOM_ROWS_FEW``th row in revision order: None if fewer show the symptom.
        bounds = {
            f"kind_{n}": Subquery(rows.order_by("revision_id").values("revision_id")[SYMPTOM_ROWS_FEW - 1 :][:1])
            for n, rows in enumerate(kinds)
        }
        counted = Symptom.objects.filter(pk=symptom_id).annotate(**bounds).values_list(*bounds).first()
        condition = Q(pk__in=[])
        for rows, last in zip(kinds, counted or [None] * len(kinds), strict=True):
            condition |= having_rows(rows, widely=last is not None)
        revisions = self.filter(condition)
        if after:
            revisions = revisions.filter(article__slug__gt=after)
        return revisions.order_by("article__slug")

    def in_article_range(self, first: int, last: int) -> RevisionQuerySet:
        """Revisions of articles with ids ``first`` to ``last`` (inclusive), by article id: a keyset page."""
        return self.filter(article_id__gte=first, article_id__lte=last).order_by("article_id")

    def about_medication(self, medications: models.QuerySet[Medication]) -> RevisionQuerySet:
        """Revisions of articles about the one medication ``medications`` names (by slug or a unique code).

        Asked as ``medication_id = (the one id)``, so the database reads the
        articles of that medication in slug order from one index.
        """
        return self.filter(article__medication_id=Subquery(medications.order_by().values("pk")[:1]))

    def updated_since(self, moment: Any) -> RevisionQuerySet:
        """Revisions whose payload changed at or after ``moment`` (see ``payload_updated_at``).

        The payload's ``updated_at`` is the later of the article's last public
        change and the revision going live; asked as "the article is among those
        changed since" from three indexed reads, not by working it out per row,
        while few changed (``UPDATED_SINCE_FEW``). When many did (a medication
        renamed stamps every article about it), that set is as large as the
        library and each page would gather and sort all of it: then it is asked
        of each live row, read in the page's order, and a page reads about a page.
        """
        stamped = Article.objects.filter(public_updated_at__gte=moment).order_by().values("pk")
        if stamped.order_by("public_updated_at")[UPDATED_SINCE_FEW - 1 :].exists():  # its index, in order
            # On live rows (``published()``): the revision going live is its publication, or its scheduled time
            # once come; an article whose live revision went live before ``moment`` had no later one go live.
            changed = self.model.objects.filter(
                Q(article__public_updated_at__gte=moment)
                | Q(published_at__gte=moment)
                | Q(state=RevisionState.SCHEDULED, publish_at__gte=moment, publish_at__lte=timezone.now()),
                pk=OuterRef("pk"),
            )
            # Asked of each row as a scalar subquery (its own row, by primary key), never weighed by the statistics:
            # as a condition on the row, the planner walked in the page's order only while it expected many to
            # match; with statistics from before a rename stamped the library, it expected none, and merged every
            # revision with every article to sort those that had changed (``tests/api/test_plans.py``).
            return self.filter(IsNull(Subquery(changed.order_by().values("pk")[:1]), False))
        published = self.model.objects.filter(published_at__gte=moment).order_by().values("article_id")
        due = (
            self.model.objects.filter(state=RevisionState.SCHEDULED, publish_at__gte=moment)
            .filter(publish_at__lte=timezone.now())
            .order_by()
            .values("article_id")
        )
        # Read by their ids, whatever their number (``AmongIds``): as ``IN`` a few hundred expected read every article.
        return self.filter(AmongIds(F("article_id"), stamped.union(published, due)))

    def get_live(self, slug: str, *, kind: str) -> Revision:
        """The live revision of the ``kind`` content at ``slug``: the one read behind every public address.

        Pages, the API and other kinds' pages all ask this, so they agree: the
        live revision (taken from this queryset, with the caller's prefetches
        and annotations); else ``Withdrawn`` (410 Gone) if the content was taken
        off the site; else ``Http404``, for an address that never showed
        anything of this kind (unknown, only drafts, or content of another kind).
        """
        revision = self.published().filter(article__kind=kind, article__slug=slug).first()
        if revision is not None:
            return revision
        if Article.objects.withdrawn().filter(slug=slug, kind=kind).exists():
            raise Withdrawn(slug)
        raise Http404("Nothing is published at this address.")

    def showing_symptoms(self, symptoms: Collection[int] | models.QuerySet[Any]) -> RevisionQuerySet:
        """Revisions whose content rows, of any kind (see ``symptom_references``), refer to one of ``symptoms``.

        ``symptoms``: ids, or a query of them. One condition per kind of row, each an indexed subquery.
        """
        condition = Q(pk__in=[])
        for reference in symptom_references():
            rows = reference.model._default_manager.filter(**{f"{reference.symptom_field}__in": symptoms})
            condition |= Q(pk__in=rows.values("revision_id"))
        return self.filter(condition)

    def having_rows_showing(self, symptoms: Collection[int]) -> RevisionQuerySet:
        """Revisions with a content row of their own, of any kind (see ``symptom_references``), that refers to one of
        ``symptoms`` (ids): asked of each revision, by the rows' revision index.

        For a few revisions (a page's links, ``linked_to_by_symptoms``): ``showing_symptoms`` reads every row
        showing the symptoms first, the 20,000 of a symptom every article shows, to keep those of a handful of
        revisions (``tests/articles/test_page_plans.py``).
        """
        shown = [
            Exists(
                reference.model._default_manager.filter(
                    revision_id=OuterRef("pk"), **{f"{reference.symptom_field}_id__in": symptoms}
                )
            )
            for reference in symptom_references()
        ]
        return self.filter(functools.reduce(operator.or_, shown)) if shown else self.none()

    def linked_to_by_symptoms(self, symptoms: Collection[int], *, kinds: Collection[str]) -> RevisionQuerySet:
        """Of these, the revisions of ``kinds`` content (the kinds an article's page links to, ``articles.kinds``) with
        a row showing one of ``symptoms`` (ids), by title: an article's page's links. Read by the content of those
        kinds (a few dozen pieces, however many articles there are), each revision asked of its own rows.
        """
        return self.of_kinds(*kinds).having_rows_showing(symptoms).order_by("title", "pk")

    def of_kind(self, kind: str) -> RevisionQuerySet:
        """Revisions of content of one kind (see ``articles.kinds``)."""
        return self.filter(article__kind=kind)

    def of_kinds(self, *kinds: str) -> RevisionQuerySet:
        """Revisions of content of any of ``kinds``."""
        return self.filter(article__kind__in=kinds)

    def articles(self) -> RevisionQuerySet:
        """Revisions of articles proper, not of other kinds of content."""
        return self.of_kind(ArticleKind.ARTICLE)

    def ever_published(self) -> RevisionQuerySet:
        """Every revision that has been live: the public page history."""
        now = timezone.now()
        return self.filter(
            Q(published_at__isnull=False) | Q(state=RevisionState.SCHEDULED, publish_at__lte=now)
        ).exclude(state=RevisionState.SCHEDULED, publish_at__gt=now)

    def with_first_published(self) -> RevisionQuerySet:
        """Annotate ``first_published_at``: when the article was first published, the JSON-LD's ``datePublished``
        on the page and in the API alike (``structured_data.medical_web_page``)."""
        return self.annotate(first_published_at=Min("article__revisions__published_at"))

    def with_withdrawal(self) -> RevisionQuerySet:
        """Annotate ``withdrawn_at``: when the revision was withdrawn (its change feed event), else None.

        The public history says so: between that moment and the next publication the article's address
        answered 410 Gone. A subquery, so the history costs no more queries for it.
        """
        from .feed import ChangeEvent, ChangeKind

        withdrawal = ChangeEvent.objects.filter(revision=OuterRef("pk"), kind=ChangeKind.WITHDRAWN)
        return self.annotate(withdrawn_at=Subquery(withdrawal.order_by("pk").values("occurred_at")[:1]))

    def due_for_publication(self) -> RevisionQuerySet:
        """Scheduled revisions whose time has come but whose state still says scheduled."""
        return self.filter(state=RevisionState.SCHEDULED, publish_at__lte=timezone.now())

    def editable(self) -> RevisionQuerySet:
        """Revisions open for editing: at most one per article (``revision_one_open_draft_per_article``)."""
        return self.filter(state__in=EDITABLE_STATES)

    def contributed_by(self, user: Any) -> RevisionQuerySet:
        """Revisions with ``user``'s words in them (see ``RevisionContributor``): four eyes keeps them from review."""
        return self.filter(contributors__user=user)

    def not_contributed_by(self, user: Any) -> RevisionQuerySet:
        from .workflow import RevisionContributor

        return self.exclude(Exists(RevisionContributor.objects.filter(revision=OuterRef("pk"), user=user)))

    def with_next_review_due(self) -> RevisionQuerySet:
        """Annotate ``next_review_due``: the latest clinical review's (``Revision.review_due`` keeps it)."""
        return self.annotate(next_review_due=F("review_due"))

    def keep_review_due(self) -> int:
        """Copy each revision's latest clinical review's next review date into ``review_due`` (None if none)."""
        from .workflow import ClinicalReview

        latest = ClinicalReview.objects.filter(revision=OuterRef("pk")).order_by("-reviewed_at", "-pk")
        return self.update(review_due=Subquery(latest.values("next_review_due")[:1]))

    def overdue_for_review(self) -> RevisionQuerySet:
        """Live revisions whose next review date has passed (or that were never reviewed).

        Read by the index on ``review_due`` of published and scheduled revisions (every live revision is one), not
        by working out the latest review of every live revision: the dashboard counts these on every visit.
        """
        today = timezone.localdate()
        return (
            self.published()
            .filter(state__in=LIVE_STATES)
            .filter(Q(review_due__lt=today) | Q(review_due__isnull=True))
            .with_next_review_due()
        )

    def with_review(self) -> RevisionQuerySet:
        """Prefetch the clinical reviews, latest first (see ``Revision.current_review``)."""
        from .workflow import ClinicalReview

        return self.prefetch_related(
            Prefetch("reviews", queryset=ClinicalReview.objects.order_by("-reviewed_at", "-pk"))
        )

    def with_content(self) -> RevisionQuerySet:
        """Fetch the whole content aggregate in a fixed number of queries."""
        return self.select_related("article__medication").prefetch_related(*content_prefetches())


class Revision(models.Model):
    """The whole content of an article at one point in time.

    Content rows hang off the revision; they may change only while the revision
    is in an editable state. State changes go through ``articles.services``.
    """

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(editable=False, help_text="1, 2, 3... per article.")
    state = models.CharField(max_length=20, choices=RevisionState.choices, default=RevisionState.DRAFT, editable=False)
    title = TextLineField(max_length=MAX_TITLE_CHARS)
    topic = TextLineField(
        max_length=MAX_TITLE_CHARS,
        help_text="The condition or effect the article is about, e.g. 'Peripheral neuropathy'. Reviewed with the rest.",
    )
    summary = TextBlockField(
        max_length=MAX_SUMMARY_CHARS,
        help_text="One or two plain sentences; shown under the title and in search results.",
    )
    change_summary = TextLineField(
        max_length=MAX_LINE_CHARS, blank=True, help_text="What changed in this revision, for the public page history."
    )
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="derived_revisions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic locking: every content save increments it; a save based on an
    # older value is refused instead of overwriting someone else's work.
    lock_version = models.PositiveIntegerField(default=0, editable=False)
    content_hash = models.CharField(max_length=CONTENT_HASH_CHARS, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    publish_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="For a scheduled revision: when it goes live."
    )
    # The next review date of its latest clinical review (None: never reviewed), for the overdue worklist and the
    # dashboard's count of it, read by index. Kept by ``ClinicalReview.save`` and ``ClinicalReview.objects.update``;
    # rows written in bulk set it themselves (``RevisionQuerySet.keep_review_due`` works it out again).
    review_due = models.DateField(null=True, blank=True, editable=False)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        # Newest first, without a join: lists that want another order ask for it.
        ordering = ["-pk"]
        indexes = [
            # ``updated_since``: revisions that went live at or after a moment.
            models.Index(fields=["published_at"], name="revision_published_at"),
            # Scheduled publications by time: which are due, which is next (``site_identity``).
            models.Index(
                fields=["publish_at"], condition=Q(state=RevisionState.SCHEDULED), name="revision_scheduled_publish_at"
            ),
            # The overdue worklist: live revisions by their next review date, the never reviewed (NULL) too.
            models.Index(fields=["review_due"], condition=Q(state__in=LIVE_STATES), name="revision_live_review_due"),
            # The worklists by state (in review, approved, drafts): a few rows among every revision of the library.
            models.Index(fields=["state"], name="revision_state"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_unique_number_per_article"),
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(state=RevisionState.PUBLISHED),
                name="revision_one_live_per_article",
            ),
            models.CheckConstraint(condition=Q(state__in=RevisionState.values), name="revision_state_valid"),
            models.CheckConstraint(condition=Q(number__gte=1), name="revision_number_positive"),
            models.CheckConstraint(
                condition=~Q(state=RevisionState.PUBLISHED) | Q(published_at__isnull=False),
                name="revision_published_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(state=RevisionState.SCHEDULED) | Q(publish_at__isnull=False),
                name="revision_scheduled_has_time",
            ),
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(state=RevisionState.SCHEDULED),
                name="revision_one_scheduled_per_article",
            ),
            # Two open drafts of one article would each overwrite the other when published.
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(state__in=sorted(EDITABLE_STATES)),
                name="revision_one_open_draft_per_article",
            ),
        ]
        # One permission per workflow transition; "add" creates drafts and "change" saves them.
        permissions = [
            ("submit_revision", "Can submit a revision for review"),
            ("request_changes_revision", "Can request changes to a revision in review"),
            ("approve_revision", "Can approve a revision (clinical review)"),
            ("confirm_review_revision", "Can confirm a live revision as still accurate"),
            ("publish_revision", "Can publish or schedule an approved revision"),
            ("withdraw_revision", "Can withdraw a published article"),
            ("archive_revision", "Can archive a draft"),
        ]

    def __str__(self) -> str:
        return f"{self.article.slug} r{self.number} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return self.article.get_absolute_url()

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def current_review(self) -> Any:
        """The latest clinical review, or None; prefetch with ``with_review()``."""
        reviews = self.reviews.all()
        return reviews[0] if reviews else None

    @property
    def is_scheduled(self) -> bool:
        return self.state == RevisionState.SCHEDULED

    @property
    def is_live(self) -> bool:
        """Whether its state makes it live: published, or scheduled for a time that has come.

        From its state alone: a published revision whose replacement's scheduled time has come is still
        "live" here until something records the replacement (every service does first, under the article's
        lock). What readers and partners are shown as current comes from what is live now instead:
        ``articles.live`` (``Live.revision_id``) or ``RevisionQuerySet.with_is_current()``.
        """
        now = timezone.now()
        return self.state == RevisionState.PUBLISHED or (
            self.state == RevisionState.SCHEDULED and self.publish_at is not None and self.publish_at <= now
        )

    @property
    def live_from(self) -> Any:
        return self.published_at or self.publish_at

    @property
    def payload_updated_at(self) -> Any:
        """When what partners see of this revision last changed: the later of the article's last public
        change (a review, a vocabulary change, ...) and the revision going live.

        The one rule, here for payloads and in ``RevisionQuerySet.updated_since`` for filters.
        """
        moments = [moment for moment in (self.article.public_updated_at, self.live_from) if moment]
        return max(moments) if moments else None


@dataclass(frozen=True)
class SymptomReference:
    """A kind of content row that refers to the symptom vocabulary, e.g. an article's symptom entry."""

    model: type[models.Model]
    # The row's foreign key to ``Symptom``; the row hangs off a revision by its ``revision`` key.
    symptom_field: str


@functools.cache
def symptom_references() -> tuple[SymptomReference, ...]:
    """Every kind of revision content row that refers to a symptom, found from the model graph.

    Content rows of every kind (an article's symptom entries, another kind's
    rows) hang off a revision by a ``revision`` foreign key; those with a
    foreign key to ``Symptom`` show that symptom's name to readers. Finding them
    here keeps this app free of any other app's names.
    """
    references = []
    for relation in Revision._meta.related_objects:
        if not relation.one_to_many or relation.field.name != "revision":
            continue
        for field in relation.related_model._meta.concrete_fields:
            if field.many_to_one and field.related_model is Symptom:
                references.append(SymptomReference(relation.related_model, field.name))
    return tuple(references)
