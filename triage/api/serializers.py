"""Pathways for partners: the questions to ask, the possible outcomes, and evaluation results."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from articles.api.serializers import ReviewedContentSerializer, SymptomRefSerializer
from articles.limits import CONTENT_HASH_CHARS
from articles.models import Revision
from articles.rendering import render_markdown
from triage.engine import Level
from triage.forms import ordered_questions

LEVELS = [level.slug for level in Level]


def _level(value: int | None) -> str | None:
    return Level(value).slug if value is not None else None


class OptionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    is_red_flag = serializers.BooleanField()


class QuestionSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.ChoiceField(choices=["yes_no", "single_choice", "multiple_choice"])
    text = serializers.CharField()
    help_text = serializers.CharField(
        allow_blank=True,
        help_text=(
            "The hint under the question, in Markdown. A plain question lists the signs it asks about "
            "here, one '- ' item each: show it with the question, or the question cannot be answered."
        ),
    )
    symptom = SymptomRefSerializer(allow_null=True)
    red_flag_level = serializers.SerializerMethodField(help_text="For a red flag: the least urgent outcome it allows.")
    source = serializers.CharField(allow_blank=True)
    options = OptionSerializer(many=True, source="options.all")

    @extend_schema_field(serializers.ChoiceField(choices=LEVELS, allow_null=True))
    def get_red_flag_level(self, question: Any) -> str | None:
        return _level(question.red_flag_level)


class DispositionSerializer(serializers.Serializer):
    key = serializers.CharField()
    level = serializers.SerializerMethodField()
    title = serializers.CharField()
    advice_markdown = serializers.CharField(source="advice")
    advice_html = serializers.SerializerMethodField()
    safety_netting_markdown = serializers.CharField(source="safety_netting")
    safety_netting_html = serializers.SerializerMethodField()
    is_fallback = serializers.BooleanField()
    articles = serializers.SerializerMethodField(help_text="Public pages of related articles.")

    @extend_schema_field(serializers.ChoiceField(choices=LEVELS))
    def get_level(self, disposition: Any) -> str:
        return _level(disposition.level)

    def get_advice_html(self, disposition: Any) -> str:
        return render_markdown(disposition.advice)

    def get_safety_netting_html(self, disposition: Any) -> str:
        return render_markdown(disposition.safety_netting)

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_articles(self, disposition: Any) -> list[str]:
        return [settings.PUBLIC_BASE_URL + article.get_absolute_url() for article in disposition.articles.all()]


class ConditionSerializer(serializers.Serializer):
    question = serializers.CharField(source="option.question.key")
    option = serializers.CharField(source="option.key")


class RuleSerializer(serializers.Serializer):
    key = serializers.CharField()
    description = serializers.CharField()
    match = serializers.SerializerMethodField()
    disposition = serializers.CharField(source="disposition.key")
    conditions = ConditionSerializer(many=True, source="conditions.all")

    @extend_schema_field(serializers.ChoiceField(choices=["all", "any"]))
    def get_match(self, rule: Any) -> str:
        return "all" if rule.match_all else "any"


class PathwaySummarySerializer(ReviewedContentSerializer):
    detail_view_name = "v1:pathway-detail"

    is_demonstration = serializers.SerializerMethodField(
        help_text="True until a real clinician has reviewed the pathway: say so wherever it is shown."
    )

    def get_is_demonstration(self, revision: Revision) -> bool:
        review = revision.current_review
        return review is None or review.reviewer_is_demonstration


class PathwayDetailSerializer(PathwaySummarySerializer):
    emergency_number = serializers.SerializerMethodField()
    questions = serializers.SerializerMethodField(help_text="In the order to ask them: red flags first.")
    dispositions = DispositionSerializer(many=True, source="triage_dispositions.all")
    rules = RuleSerializer(many=True, source="triage_rules.all")

    def get_emergency_number(self, revision: Revision) -> str:
        return settings.TRIAGE_EMERGENCY_NUMBER

    @extend_schema_field(QuestionSerializer(many=True))
    def get_questions(self, revision: Revision) -> list[dict[str, Any]]:
        return QuestionSerializer(ordered_questions(revision), many=True).data


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "An option key: 'yes' or 'no' for a yes/no question."},
            {"type": "array", "items": {"type": "string"}, "description": "Option keys, for multiple choice."},
        ]
    }
)
class AnswerField(serializers.Field):
    """One answer: an option key, or a list of them (the engine checks each against the pathway)."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class EvaluateRequestSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=AnswerField(),
        help_text=(
            "Question key → answer: an option key ('yes' or 'no' for yes/no questions), "
            "or a list of option keys for multiple choice (an empty list for none). Questions not answered yet "
            "may be left out: the response says whether the outcome is complete and which question to ask next."
        ),
    )
    content_hash = serializers.CharField(
        required=False,
        max_length=CONTENT_HASH_CHARS,
        help_text=(
            "Optional: the content_hash of the pathway revision whose questions were asked (from the pathway, or an "
            "earlier evaluation). If another revision is live now, the answers are refused (400, error code "
            "`pathway_changed`) rather than evaluated against questions that may be worded otherwise: fetch the "
            "pathway again and ask its questions."
        ),
    )


class FiredRuleSerializer(serializers.Serializer):
    key = serializers.CharField()
    description = serializers.CharField()


class RedFlagSerializer(serializers.Serializer):
    key = serializers.CharField()
    text = serializers.CharField()


class UrgentAdviceSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="The number to call, e.g. 111 (digits, perhaps a leading + and spaces).")
    name = serializers.CharField(help_text="Whom it reaches, e.g. NHS 111.")


class EvaluationSerializer(serializers.Serializer):
    pathway = serializers.CharField()
    revision = serializers.IntegerField()
    content_hash = serializers.CharField()
    complete = serializers.BooleanField(
        help_text=(
            "True when no answer to the questions left out could make the outcome more urgent, or change "
            "it to another disposition as urgent: show the disposition. Always true when every question "
            "is answered."
        )
    )
    next_question = serializers.CharField(
        allow_null=True,
        help_text="While not complete: the key of the question to ask next (red flags first); null when complete.",
    )
    disposition = DispositionSerializer(allow_null=True, help_text="The outcome; null until complete.")
    fired_rules = FiredRuleSerializer(many=True, help_text="The rules that fired; empty until complete.")
    red_flags = RedFlagSerializer(many=True, help_text="The red flags among the answers given.")
    emergency_number = serializers.CharField()
    urgent_advice = UrgentAdviceSerializer(help_text="Whom to contact today when it is urgent but not an emergency.")
    safety_advice = serializers.CharField()
    disclaimer = serializers.CharField()
    is_demonstration = serializers.BooleanField()
