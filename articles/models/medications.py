"""Medications and the shared symptom vocabulary: the things articles are about.

Readers and partners see these on every live article that uses them, outside any
revision's content hash. So nobody changes them with a plain save: changes go
through ``articles.services.medication_update`` / ``symptom_update`` with the
``amend_medication`` / ``amend_symptom`` permission. A new entry may be created
freely (an import does it): partners see only entries that live content uses.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, F, Func, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.urls import reverse

from ..limits import MAX_BRAND_NAMES, MAX_NOTE_CHARS, MAX_TITLE_CHARS
from ..text import TextBlockField, TextLineField, forbidden_character_problem, lookalike_key, normalise_text


def validate_brand_names(value: object) -> None:
    """Brand names are a list of distinct, non-empty, single-line names, each in its stored (normalised) form."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValidationError("Enter a list of brand names, each a non-empty string.", code="invalid_brand_names")
    if len(value) > MAX_BRAND_NAMES:
        raise ValidationError(f"List at most {MAX_BRAND_NAMES} brand names.", code="too_many_brand_names")
    for item in value:
        problem = forbidden_character_problem(item)
        if problem is not None:
            raise ValidationError(f"The brand name {item!r} {problem}.", code="forbidden_character")
        if len(item) > MAX_TITLE_CHARS or "\n" in item or normalise_text(item) != item:
            raise ValidationError(
                f"Each brand name is one line of at most {MAX_TITLE_CHARS} characters, without surrounding spaces.",
                code="invalid_brand_name",
            )
    if len({lookalike_key(item) for item in value}) != len(value):
        raise ValidationError("Each brand name may appear only once.", code="duplicate_brand_names")


rxcui_validator = RegexValidator(
    r"^[1-9][0-9]{0,9}\Z", "An RxNorm RxCUI is a number of up to 10 digits.", "invalid_rxcui"
)
atc_validator = RegexValidator(
    r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}\Z",
    "An ATC code for a medication has 7 characters, e.g. C08CA01.",
    "invalid_atc",
)
snomed_validator = RegexValidator(
    r"^[1-9][0-9]{5,17}\Z", "A SNOMED CT concept id is a number of 6 to 18 digits.", "invalid_snomed"
)


class MedicationQuerySet(models.QuerySet["Medication"]):
    def in_live_content(self) -> MedicationQuerySet:
        """Medications that live content of any kind is about: the ones partners may see."""
        return self._live(kind=None)

    def with_live_articles(self) -> MedicationQuerySet:
        """Medications that live articles proper are about: the ones with a public page of articles."""
        from .articles import ArticleKind

        return self._live(kind=ArticleKind.ARTICLE)

    def _live(self, *, kind: str | None) -> MedicationQuerySet:
        """Medications some live content (of ``kind``, or of any kind) is about, read from the live tallies.

        A medication with a tally has a recorded live revision (``LiveTally``, moved by every change of what is
        live); one without may still have a scheduled revision gone live at its time and not yet recorded (a few
        rows, from the partial index of scheduled revisions), as ``Revision.objects.published()`` counts it. Asked
        of the revisions themselves, each medication read the index entries of all its articles (a bitmap of
        them, before the first live one): 20,150 rows for a page of 50 at 20,000 articles, growing with them.
        """
        from .articles import Revision
        from .tallies import LiveTally

        tallies = LiveTally.objects.filter(medication=OuterRef("pk"), count__gt=0)
        due = Revision.objects.due_for_publication().order_by()
        if kind is not None:
            tallies = tallies.filter(kind=kind)
            due = due.filter(article__kind=kind)
        return self.filter(Q(Exists(tallies)) | Q(pk__in=due.values("article__medication_id")))

    def in_id_range(self, first: int, last: int) -> MedicationQuerySet:
        """Ids ``first`` to ``last`` (inclusive), in id order: a keyset page."""
        return self.filter(pk__gte=first, pk__lte=last).order_by("pk")

    def last_id(self) -> int:
        """The highest id (0 if none): one index lookup."""
        return self.aggregate(last=Max("pk"))["last"] or 0


class SymptomQuerySet(models.QuerySet["Symptom"]):
    def in_live_content(self) -> SymptomQuerySet:
        """Symptoms that the content of a live revision refers to: the ones partners may see."""
        return self._live(kind=None)

    def with_live_articles(self) -> SymptomQuerySet:
        """Symptoms that live articles proper show: the ones with a public page (``/symptoms/<slug>/``)."""
        from .articles import ArticleKind

        return self._live(kind=ArticleKind.ARTICLE)

    def shown_by_revision(self, revision_id: int) -> SymptomQuerySet:
        """Symptoms that revision ``revision_id``'s content rows, of any kind, refer to: one indexed subquery each."""
        return self._referred_to_by_rows(revision_id=revision_id)

    def shown_by_article(self, article_id: int) -> SymptomQuerySet:
        """Symptoms some revision of article ``article_id`` (in any state) refers to: one subquery per kind of row."""
        return self._referred_to_by_rows(revision__article_id=article_id)

    def _referred_to_by_rows(self, **rows_filter: Any) -> SymptomQuerySet:
        """Symptoms that the content rows matching ``rows_filter``, of any kind, refer to."""
        from .articles import symptom_references

        condition = Q(pk__in=[])
        for reference in symptom_references():
            rows = reference.model._default_manager.filter(**rows_filter)
            condition |= Q(pk__in=rows.values(f"{reference.symptom_field}_id"))
        return self.filter(condition)

    def _live(self, *, kind: str | None) -> SymptomQuerySet:
        """Symptoms some live content (of ``kind``, or of any kind) shows, read from the live symptom tallies.

        A symptom is shown by as many articles' recorded live revisions as its tallies count (``LiveSymptomTally``,
        moved by every change of what is live), less those a scheduled revision gone live at its time and not yet
        recorded hides; a due revision shows its own symptoms, as ``Revision.objects.published()`` counts them. The
        due revisions are a few rows (the partial index of scheduled revisions), each asked by index whether it, or
        the revision it hides, shows the symptom at hand: each symptom costs a few index reads, never a list of
        revisions built for the query. Asked of each symptom's rows instead (up to the first with a live revision),
        a symptom only replaced revisions show read every one of its rows, growing with the library: at 20,000
        articles, 20,140 rows in one plan node for a page of the partners' list and 20,000 for the 404 of its page
        (258 rows in all and 1 now, ``tests/api/test_plans.py``).
        """
        from .articles import Revision, symptom_references
        from .tallies import LiveSymptomTally

        tallies = LiveSymptomTally.objects.filter(symptom=OuterRef("pk"))
        due = Revision.objects.due_for_publication().order_by()
        if kind is not None:
            tallies = tallies.filter(kind=kind)
            due = due.filter(article__kind=kind)
        shows = Q(pk__in=[])  # of a due revision: it shows the symptom at hand
        hides = Q(pk__in=[])  # of a due revision: the recorded live revision it hides shows the symptom at hand
        for reference in symptom_references():
            rows = reference.model._default_manager.filter(**{reference.symptom_field: OuterRef(OuterRef("pk"))})
            shows |= Exists(rows.filter(revision_id=OuterRef("pk")))
            hides |= Exists(rows.filter(revision_id=OuterRef("article__tallied_revision")))
        counted = tallies.order_by().values("symptom").annotate(total=Sum("count")).values("total")
        hidden = due.filter(hides).annotate(total=Func(F("pk"), function="COUNT")).values("total")
        outnumbered = GreaterThan(Coalesce(Subquery(counted), 0), Coalesce(Subquery(hidden), 0))
        return self.filter(Q(Exists(due.filter(shows))) | Q(outnumbered))


# A new address (slug) in the one form of each: lower case, digits and single hyphens, as row keys are. Django's slug
# rule also allows capitals and "_": "Amlodipine-Peripheral-Neuropathy" was a second article beside
# "amlodipine-peripheral-neuropathy", at an address a reader could not tell from the first's.
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def validate_new_slug(entry: models.Model) -> None:
    """Refuse a new entry's slug in any other form. Slugs stored before this rule stay (an address never changes),
    and an import naming one still finds it; the API's schema still describes them."""
    slug = getattr(entry, "slug", "")
    if not isinstance(slug, str) or not slug or _SLUG.fullmatch(slug):
        return
    if entry._state.adding and not type(entry)._default_manager.filter(slug=slug).exists():
        raise ValidationError(
            {
                "slug": ValidationError(
                    "Use lower-case letters, digits and single hyphens, e.g. 'amlodipine-peripheral-neuropathy': "
                    "an address differing from another only in capitals or underscores reads as the same address.",
                    code="invalid_slug",
                )
            }
        )


class NamedEntry(models.Model):
    """A vocabulary entry whose name no other entry's may look like (``articles.text.lookalike_key``).

    Its name is unique as stored, and also as read: "AMLODIPINE", or "Amlodipine" with a zero width joiner,
    would be a second entry readers and authors could not tell from "Amlodipine". ``name_key`` holds the key,
    set on every save, unique in the database; ``validate_unique`` (the admin's form, an update's ``full_clean``)
    names the entry it looks like.
    """

    name_field: ClassVar[str]

    # NULL, not "", for an entry saved without it (a bulk insert, a lookalike kept by the migration): many may be.
    name_key = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False, help_text="lookalike_key of the name (set on save)."
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_key = lookalike_key(getattr(self, self.name_field))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and self.name_field in update_fields:
            kwargs["update_fields"] = [*update_fields, "name_key"]
        super().save(*args, **kwargs)

    def lookalike(self) -> NamedEntry | None:
        """Another entry whose name reads as this one's, if any."""
        name = getattr(self, self.name_field)
        if not isinstance(name, str) or not name:
            return None
        # By its name too: an entry saved without its key (a bulk insert) is still found when named exactly.
        others = type(self)._default_manager.filter(Q(name_key=lookalike_key(name)) | Q(**{self.name_field: name}))
        if self.pk is not None:
            others = others.exclude(pk=self.pk)
        return others.first()

    def clean(self) -> None:
        super().clean()
        validate_new_slug(self)

    def validate_unique(self, exclude: Any = None) -> None:
        super().validate_unique(exclude=exclude)
        if exclude and self.name_field in exclude:
            return
        other = self.lookalike()
        if other is not None:
            field = self._meta.get_field(self.name_field)
            raise ValidationError(
                {
                    self.name_field: ValidationError(
                        "The %(what)s %(other)s already has this %(field)s, or one that looks the same "
                        "(names are compared ignoring case, spacing and invisible characters).",
                        code="lookalike",
                        params={
                            "what": self._meta.verbose_name,
                            "other": repr(getattr(other, self.name_field)),
                            "field": field.verbose_name,
                        },
                    )
                }
            )


class Medication(NamedEntry):
    """A medicine by its generic name, with its codes for lookup by partners."""

    name_field = "generic_name"

    slug = models.SlugField(max_length=100, unique=True, help_text="Used in URLs and import files, e.g. 'amlodipine'.")
    generic_name = TextLineField(max_length=MAX_TITLE_CHARS, unique=True)
    brand_names = models.JSONField(
        default=list, blank=True, validators=[validate_brand_names], help_text='A list, e.g. ["Norvasc"].'
    )
    drug_class = TextLineField(max_length=MAX_TITLE_CHARS, blank=True)
    rxnorm_rxcui = models.CharField(
        "RxNorm RxCUI",
        max_length=10,
        blank=True,
        validators=[rxcui_validator],
        help_text="RxNorm ingredient concept id (code system 2.16.840.1.113883.6.88).",
    )
    atc_code = models.CharField(
        "ATC code", max_length=7, blank=True, db_index=True, validators=[atc_validator], help_text="WHO ATC code."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = MedicationQuerySet.as_manager()

    class Meta:
        ordering = ["generic_name"]
        permissions = [
            ("amend_medication", "Can change a medication's public details (audited; shows on live articles at once)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rxnorm_rxcui"], condition=~Q(rxnorm_rxcui=""), name="medication_unique_rxcui"
            ),
        ]

    def __str__(self) -> str:
        return self.generic_name


class Symptom(NamedEntry):
    """One entry of the symptom vocabulary, shared by every kind of content."""

    name_field = "name"

    slug = models.SlugField(max_length=100, unique=True)
    name = TextLineField(max_length=MAX_TITLE_CHARS, unique=True)
    description = TextBlockField(max_length=MAX_NOTE_CHARS, help_text="A plain-language description for readers.")
    snomed_ct_code = models.CharField(
        "SNOMED CT code", max_length=18, blank=True, validators=[snomed_validator], help_text="Optional concept id."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = SymptomQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("amend_symptom", "Can change a symptom's public details (audited; shows on live articles at once)"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        """The page listing the live articles that mention it (a 404 while none does)."""
        return reverse("articles:symptom", kwargs={"slug": self.slug})
