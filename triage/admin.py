"""Pathway content on a revision's admin page (read-only: pathways are written as files and imported).

The review workflow panel, the diff, the audit log and the content checks (here
including the pathway's safety checks) come from the revision admin itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from contentsite.admin import BoundedListMixin, ReadOnlyAdminMixin

from .models import Disposition, OutcomeCount, Question, Rule, Vignette


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("articles.view_revision")


class QuestionInline(ReadOnlyInline):
    model = Question
    fields = ["position", "key", "text", "kind", "answers", "red_flag_level", "source", "symptom"]
    readonly_fields = fields
    verbose_name_plural = "triage questions (red flags are asked first)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        return super().get_queryset(request).select_related("symptom").prefetch_related("options")

    @admin.display(description="Answers (red flag marked !)")
    def answers(self, question: Question) -> str:
        return format_html_join(
            ", ", "{}{}", ((o.label, " !" if o.is_red_flag else "") for o in question.options.all())
        )


class DispositionInline(ReadOnlyInline):
    model = Disposition
    fields = ["position", "key", "level", "title", "advice", "safety_netting", "is_fallback"]
    readonly_fields = fields
    verbose_name_plural = "triage dispositions"


class RuleInline(ReadOnlyInline):
    model = Rule
    fields = ["position", "key", "description", "when", "disposition"]
    readonly_fields = fields
    verbose_name_plural = "triage rules (the most urgent matching rule wins)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        return (
            super().get_queryset(request).select_related("disposition").prefetch_related("conditions__option__question")
        )

    @admin.display(description="When")
    def when(self, rule: Rule) -> str:
        joiner = " and " if rule.match_all else " or "
        return joiner.join(f"{c.option.question.key} = {c.option.key}" for c in rule.conditions.all())


class VignetteInline(ReadOnlyInline):
    model = Vignette
    fields = ["position", "key", "title", "answers", "minimum_level", "rationale"]
    readonly_fields = fields
    verbose_name_plural = "vignettes (checked before approval)"


PATHWAY_INLINES = [QuestionInline, DispositionInline, RuleInline, VignetteInline]


@admin.register(OutcomeCount)
class OutcomeCountAdmin(BoundedListMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Anonymous counts of outcomes per pathway revision and day; nothing else about readers exists."""

    list_display = ["day", "revision", "disposition_key", "count"]
    list_select_related = ["revision__article"]
    list_filter = ["day", "disposition_key"]
    date_hierarchy = "day"
