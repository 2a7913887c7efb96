"""The rows that make up a revision's content.

Every row has a ``key`` that is stable across revisions: copying a revision into
a new draft keeps the keys, so a diff can tell an edited row from a new one.
``position`` orders rows within their list.
"""

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from ..limits import (
    MAX_BODY_CHARS,
    MAX_CELL_CHARS,
    MAX_CITATION_CHARS,
    MAX_CITATION_PART_CHARS,
    MAX_FEATURE_HEADING_CHARS,
    MAX_LINE_CHARS,
    MAX_NOTE_CHARS,
    MAX_POSITION,
    MAX_TITLE_CHARS,
    MAX_YEAR,
    MIN_YEAR,
)
from ..text import TextBlockField, TextLineField, TextURLField, validate_text_characters
from .articles import Revision
from .medications import Symptom

key_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z",
    "Use lower-case letters, digits and single hyphens, e.g. 'reported-symptoms'.",
    "invalid_key",
)


def new_key() -> str:
    """A fresh random key for a row added by hand in the admin."""
    return f"k-{secrets.token_hex(4)}"


def _unique_key(model_label: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["revision", "key"], name=f"{model_label}_unique_key_per_revision")


class RevisionRow(models.Model):
    """Fields shared by every row that belongs directly to a revision."""

    key = models.CharField(
        max_length=64,
        default=new_key,
        validators=[key_validator],
        help_text="Stable identity of this row across revisions.",
    )
    position = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_POSITION)], help_text="Order within its list."
    )

    class Meta:
        abstract = True
        ordering = ["position", "key"]

    def clean(self) -> None:
        super().clean()
        section = getattr(self, "section", None)
        if section is not None and section.revision_id != self.revision_id:
            raise ValidationError({"section": "Choose a section of the same revision."}, code="foreign_section")


class Section(RevisionRow):
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="sections")
    heading = TextLineField(max_length=MAX_TITLE_CHARS)
    body = TextBlockField(
        max_length=MAX_BODY_CHARS,
        blank=True,
        help_text=(
            "Markdown: paragraphs and lists in any order. Cite references with [@reference-key], several as "
            "[@first; @second]. Leave empty when the heading introduces only the symptoms, tables or actions "
            "placed in this section."
        ),
    )

    class Meta(RevisionRow.Meta):
        constraints = [_unique_key("section")]

    def __str__(self) -> str:
        return self.heading


class FrequencyBand(models.TextChoices):
    """CIOMS III / EU SmPC section 4.8 frequency bands."""

    VERY_COMMON = "very_common", "Very common (1 in 10 or more)"
    COMMON = "common", "Common (1 in 100 to 1 in 10)"
    UNCOMMON = "uncommon", "Uncommon (1 in 1,000 to 1 in 100)"
    RARE = "rare", "Rare (1 in 10,000 to 1 in 1,000)"
    VERY_RARE = "very_rare", "Very rare (less than 1 in 10,000)"
    NOT_KNOWN = "not_known", "Not known (cannot be estimated from the available data)"


class SymptomEntry(RevisionRow):
    """A symptom as this article describes it, linked to the shared vocabulary."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="symptom_entries")
    # Indexed with the revision (``symptomentry_symptom_revision``), not alone: one index for a symptom's rows, so that
    # reading them in revision order is never weighed against an index that gives them in none.
    symptom = models.ForeignKey(Symptom, on_delete=models.PROTECT, related_name="entries", db_index=False)
    text = TextBlockField(
        max_length=MAX_BODY_CHARS, help_text="The article's wording for this symptom (Markdown, one paragraph)."
    )
    section = models.ForeignKey(
        Section,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The section the symptom list appears in; empty shows it under its own heading.",
    )
    frequency_band = models.CharField(max_length=20, choices=FrequencyBand.choices, blank=True)
    frequency_source = TextLineField(
        max_length=MAX_LINE_CHARS, blank=True, help_text="Where the frequency comes from, e.g. a product label."
    )

    class Meta(RevisionRow.Meta):
        verbose_name_plural = "symptom entries"
        # A symptom's rows in revision order: its page and the SNOMED CT lookup read up to a bound of them by this
        # index whatever the planner expects a symptom to have (``RevisionQuerySet.mentioning_after``,
        # ``articles.api.views._shows_symptom``); and any read by symptom.
        indexes = [models.Index(fields=["symptom", "revision"], name="symptomentry_symptom_revision")]
        constraints = [
            _unique_key("symptomentry"),
            models.CheckConstraint(
                condition=Q(frequency_band="") | ~Q(frequency_source=""),
                name="symptomentry_frequency_has_source",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    def clean(self) -> None:
        super().clean()
        if self.frequency_band and not self.frequency_source.strip():
            raise ValidationError(
                {"frequency_source": "Name the source of the frequency; frequencies differ between sources."},
                code="frequency_without_source",
            )


class ComparisonTable(RevisionRow):
    """A table comparing causes: a feature column plus any number of compared columns."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="comparison_tables")
    caption = TextLineField(max_length=MAX_LINE_CHARS, help_text="Read out by screen readers before the table.")
    feature_heading = TextLineField(
        max_length=MAX_FEATURE_HEADING_CHARS, default="Feature", help_text="Heading of the first column."
    )
    section = models.ForeignKey(
        Section,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The section the table appears in.",
    )

    class Meta(RevisionRow.Meta):
        constraints = [_unique_key("comparisontable")]

    def __str__(self) -> str:
        return self.caption


class TableRow(models.Model):
    """Fields shared by the columns and rows of a comparison table."""

    key = models.CharField(max_length=64, default=new_key, validators=[key_validator])
    position = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_POSITION)])

    class Meta:
        abstract = True
        ordering = ["position", "key"]


class ComparisonColumn(TableRow):
    table = models.ForeignKey(ComparisonTable, on_delete=models.CASCADE, related_name="columns")
    heading = TextLineField(max_length=MAX_TITLE_CHARS)

    class Meta(TableRow.Meta):
        constraints = [models.UniqueConstraint(fields=["table", "key"], name="comparisoncolumn_unique_key_per_table")]

    def __str__(self) -> str:
        return self.heading


class ComparisonRow(TableRow):
    table = models.ForeignKey(ComparisonTable, on_delete=models.CASCADE, related_name="rows")
    feature = TextLineField(max_length=MAX_TITLE_CHARS, help_text="The row's heading, in the feature column.")

    class Meta(TableRow.Meta):
        constraints = [models.UniqueConstraint(fields=["table", "key"], name="comparisonrow_unique_key_per_table")]

    def __str__(self) -> str:
        return self.feature


class ComparisonCell(models.Model):
    row = models.ForeignKey(ComparisonRow, on_delete=models.CASCADE, related_name="cells")
    column = models.ForeignKey(ComparisonColumn, on_delete=models.CASCADE, related_name="cells")
    text = TextBlockField(max_length=MAX_CELL_CHARS, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["row", "column"], name="comparisoncell_one_per_row_and_column")]

    def __str__(self) -> str:
        return self.text[:80]

    def clean(self) -> None:
        if self.row_id and self.column_id and self.row.table_id != self.column.table_id:
            raise ValidationError("A cell's row and column must belong to the same table.", code="foreign_column")


class ActionStep(RevisionRow):
    """One thing the reader can do ("What to do"), in order."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="action_steps")
    title = TextLineField(max_length=MAX_TITLE_CHARS)
    body = TextBlockField(max_length=MAX_BODY_CHARS, blank=True, help_text="Markdown, one paragraph.")
    section = models.ForeignKey(
        Section,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The section the steps appear in; empty shows them under their own heading.",
    )

    class Meta(RevisionRow.Meta):
        constraints = [_unique_key("actionstep")]

    def __str__(self) -> str:
        return self.title


class CalloutKind(models.TextChoices):
    WARNING = "warning", "Warning"
    IMPORTANT = "important", "Important"
    INFORMATION = "information", "Information"


class SafetyCallout(RevisionRow):
    """Safety advice shown prominently near the top of the article."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="callouts")
    kind = models.CharField(max_length=20, choices=CalloutKind.choices, default=CalloutKind.WARNING)
    title = TextLineField(max_length=MAX_TITLE_CHARS)
    body = TextBlockField(max_length=MAX_BODY_CHARS, help_text="Markdown, one paragraph.")

    class Meta(RevisionRow.Meta):
        constraints = [_unique_key("safetycallout")]

    def __str__(self) -> str:
        return self.title


class PublicationType(models.TextChoices):
    JOURNAL_ARTICLE = "journal_article", "Journal article"
    PRODUCT_INFORMATION = "product_information", "Product information or label"
    GUIDELINE = "guideline", "Guideline"
    WEB_PAGE = "web_page", "Web page"
    BOOK = "book", "Book or chapter"
    OTHER = "other", "Other"


class EvidenceLevel(models.TextChoices):
    SYSTEMATIC_REVIEW = "systematic_review", "Systematic review or meta-analysis"
    RANDOMISED_TRIAL = "randomised_trial", "Randomised controlled trial"
    OBSERVATIONAL = "observational", "Observational study"
    CASE_REPORT = "case_report", "Case report or series"
    ANIMAL_OR_LABORATORY = "animal_or_laboratory", "Animal or laboratory study"
    GUIDELINE = "guideline", "Guideline or consensus"
    REGULATORY = "regulatory", "Regulatory document"
    EXPERT_OPINION = "expert_opinion", "Expert opinion"
    NOT_ASSESSED = "not_assessed", "Not assessed"


doi_validator = RegexValidator(r"^10\.[0-9]{4,9}/\S+\Z", "A DOI looks like 10.1234/abcd (no https://doi.org/).", "doi")
pmid_validator = RegexValidator(r"^[1-9][0-9]{0,8}\Z", "A PMID is a number of up to 9 digits.", "pmid")


class Reference(RevisionRow):
    """A citation with structured fields. Identifiers are never guessed: a
    reference without a DOI, PMID or URL must be marked as needing verification."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="references")
    key = models.CharField(
        max_length=64,
        validators=[key_validator],
        help_text="Cite it in Markdown as [@key], e.g. [@diabetes-2025-amlodipine].",
    )
    publication_type = models.CharField(max_length=30, choices=PublicationType.choices)
    authors = TextLineField(max_length=MAX_CITATION_CHARS, blank=True, help_text="As cited, e.g. 'Smith J, Jones A'.")
    title = TextLineField(max_length=MAX_CITATION_CHARS, blank=True)
    container_title = TextLineField(
        max_length=MAX_LINE_CHARS, blank=True, help_text="Journal, website or book the work appeared in."
    )
    publisher = TextLineField(max_length=MAX_LINE_CHARS, blank=True)
    year = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(MIN_YEAR), MaxValueValidator(MAX_YEAR)]
    )
    volume = TextLineField(max_length=MAX_CITATION_PART_CHARS, blank=True)
    issue = TextLineField(max_length=MAX_CITATION_PART_CHARS, blank=True)
    pages = TextLineField(max_length=MAX_CITATION_PART_CHARS, blank=True)
    doi = TextLineField("DOI", max_length=200, blank=True, validators=[doi_validator])
    pmid = models.CharField("PMID", max_length=9, blank=True, validators=[pmid_validator])
    url = TextURLField("URL", max_length=MAX_CITATION_CHARS, blank=True, validators=[validate_text_characters])
    accessed_on = models.DateField(null=True, blank=True, help_text="When a web page was last read.")
    evidence_level = models.CharField(max_length=30, choices=EvidenceLevel.choices, default=EvidenceLevel.NOT_ASSESSED)
    needs_verification = models.BooleanField(
        default=False, help_text="Set when any part of the citation, or its identifier, is not confirmed."
    )
    verification_note = TextBlockField(
        max_length=MAX_NOTE_CHARS, blank=True, help_text="What is not confirmed, and why."
    )

    class Meta(RevisionRow.Meta):
        constraints = [
            _unique_key("reference"),
            models.CheckConstraint(
                condition=Q(needs_verification=True) | ~Q(doi="") | ~Q(pmid="") | ~Q(url=""),
                name="reference_unverified_without_identifier",
            ),
            models.CheckConstraint(
                condition=~Q(title="") | ~Q(container_title="") | ~Q(verification_note=""),
                name="reference_describes_something",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.container_title or self.key

    def clean(self) -> None:
        super().clean()
        errors = {}
        if not (self.doi or self.pmid or self.url) and not self.needs_verification:
            errors["needs_verification"] = ValidationError(
                "A reference with no DOI, PMID or URL must be marked as needing verification.",
                code="unverified_without_identifier",
            )
        if self.needs_verification and not self.verification_note.strip():
            errors["verification_note"] = ValidationError(
                "Say what needs verifying.", code="verification_note_required"
            )
        if not (self.title.strip() or self.container_title.strip() or self.verification_note.strip()):
            errors["title"] = ValidationError(
                "Give a title, the journal or website, or a note describing the work.", code="empty_reference"
            )
        if errors:
            raise ValidationError(errors)
