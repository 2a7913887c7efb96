"""Triage pathways: questions, rules, dispositions and vignettes, as rows of a reviewed revision.

A pathway is an ``articles.Article`` of kind ``triage_pathway``: its revisions
go through the same review workflow, approvals and audit log as articles. The
rows here hang off ``articles.Revision`` and, like article content, keep stable
keys when a revision is copied into a new draft.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from articles.limits import (
    MAX_BODY_CHARS,
    MAX_LINE_CHARS,
    MAX_NOTE_CHARS,
    MAX_POSITION,
    MAX_QUESTION_CHARS,
    MAX_TITLE_CHARS,
)
from articles.models import Article, Revision, Symptom
from articles.models.content import key_validator
from articles.text import TextBlockField, TextLineField

from .engine import Kind, Level

# The ``articles.Article.kind`` of a pathway, registered with ``articles.kinds`` in ``triage.kind``.
PATHWAY = "triage_pathway"


class UrgencyLevel(models.IntegerChoices):
    SELF_CARE = Level.SELF_CARE, "Self-care"
    ROUTINE = Level.ROUTINE, "Routine"
    SOON = Level.SOON, "Soon (within days)"
    URGENT = Level.URGENT, "Urgent (same day)"
    EMERGENCY = Level.EMERGENCY, "Emergency"


class QuestionKind(models.TextChoices):
    YES_NO = Kind.YES_NO, "Yes or no"
    SINGLE = Kind.SINGLE, "One choice"
    MULTIPLE = Kind.MULTIPLE, "Several choices"


class Row(models.Model):
    key = models.CharField(max_length=64, validators=[key_validator])
    position = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_POSITION)])

    class Meta:
        abstract = True
        ordering = ["position", "key"]


class QuestionQuerySet(models.QuerySet["Question"]):
    def for_finding(self, revision_ids: list[int]) -> QuestionQuerySet:
        """The questions of ``revision_ids`` a reader finds a pathway by: about a symptom, or an emergency red flag.

        With their symptoms, in each revision's asking order (most urgent red flags first).
        """
        return (
            self.filter(revision__in=revision_ids)
            .filter(Q(symptom__isnull=False) | Q(red_flag_level=UrgencyLevel.EMERGENCY))
            .select_related("symptom")
            .order_by("revision_id", F("red_flag_level").desc(nulls_last=True), "position", "key")
        )


class Question(Row):
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="triage_questions")
    kind = models.CharField(max_length=20, choices=QuestionKind.choices)
    text = TextLineField(max_length=MAX_QUESTION_CHARS)
    help_text = TextBlockField(max_length=MAX_NOTE_CHARS, blank=True)
    symptom = models.ForeignKey(Symptom, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    red_flag_level = models.PositiveSmallIntegerField(
        choices=UrgencyLevel.choices,
        null=True,
        blank=True,
        help_text="For a red flag: the least urgent outcome a positive answer may lead to.",
    )
    source = TextLineField(
        max_length=MAX_QUESTION_CHARS, blank=True, help_text="Where the red flag comes from (guidance)."
    )

    objects = QuestionQuerySet.as_manager()

    class Meta(Row.Meta):
        constraints = [
            models.UniqueConstraint(fields=["revision", "key"], name="triage_question_unique_key"),
            models.CheckConstraint(
                condition=Q(red_flag_level__isnull=True) | ~Q(source=""), name="triage_red_flag_has_source"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class AnswerOption(Row):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    label = TextLineField(max_length=MAX_TITLE_CHARS)
    is_red_flag = models.BooleanField(default=False)

    class Meta(Row.Meta):
        constraints = [models.UniqueConstraint(fields=["question", "key"], name="triage_option_unique_key")]

    def __str__(self) -> str:
        return self.label


class Disposition(Row):
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="triage_dispositions")
    level = models.PositiveSmallIntegerField(choices=UrgencyLevel.choices)
    title = TextLineField(max_length=MAX_TITLE_CHARS)
    advice = TextBlockField(max_length=MAX_BODY_CHARS, help_text="What to do now (Markdown).")
    safety_netting = TextBlockField(max_length=MAX_BODY_CHARS, help_text="When to seek help again, and how (Markdown).")
    is_fallback = models.BooleanField(default=False, help_text="Applies when no rule matches.")
    articles = models.ManyToManyField(Article, blank=True, related_name="+", help_text="Articles to read next.")

    class Meta(Row.Meta):
        constraints = [
            models.UniqueConstraint(fields=["revision", "key"], name="triage_disposition_unique_key"),
            models.UniqueConstraint(
                fields=["revision"], condition=Q(is_fallback=True), name="triage_one_fallback_per_revision"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Rule(Row):
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="triage_rules")
    description = TextLineField(max_length=MAX_LINE_CHARS, help_text="Why the rule exists, e.g. 'possible stroke'.")
    match_all = models.BooleanField(default=True, help_text="All conditions (on), or any of them (off).")
    disposition = models.ForeignKey(Disposition, on_delete=models.CASCADE, related_name="rules")

    class Meta(Row.Meta):
        constraints = [models.UniqueConstraint(fields=["revision", "key"], name="triage_rule_unique_key")]

    def __str__(self) -> str:
        return self.description


class Condition(Row):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="conditions")
    option = models.ForeignKey(AnswerOption, on_delete=models.CASCADE, related_name="+")

    class Meta(Row.Meta):
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="triage_condition_unique_key")]

    def __str__(self) -> str:
        return f"{self.option.question.key} = {self.option.key}"


class Vignette(Row):
    """A clinician-written case: the answers, the least urgent safe outcome, and why."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="triage_vignettes")
    title = TextLineField(max_length=MAX_TITLE_CHARS)
    answers = models.JSONField(help_text="Question key → list of option keys. Omitted yes/no questions count as 'no'.")
    minimum_level = models.PositiveSmallIntegerField(choices=UrgencyLevel.choices)
    rationale = TextBlockField(max_length=MAX_NOTE_CHARS)

    class Meta(Row.Meta):
        constraints = [models.UniqueConstraint(fields=["revision", "key"], name="triage_vignette_unique_key")]

    def __str__(self) -> str:
        return self.title


class OutcomeCount(models.Model):
    """How many times a disposition was reached, per pathway revision and day. Nothing about who or why."""

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    disposition_key = models.CharField(max_length=64)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["revision", "disposition_key", "day"], name="triage_outcome_count_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.disposition_key}: {self.count}"
