"""Published pathways for partners, and stateless evaluation, under the same keys and limits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import F
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contentsite.api.pagination import PartnerCursorPagination
from contentsite.api.views import LiveArticleView, PartnerView, SiteListView
from triage import engine, notices, services
from triage.models import PATHWAY

from . import serializers


@extend_schema_view(get=extend_schema(summary="Published triage pathways", tags=["triage"]))
class PathwayList(SiteListView, generics.ListAPIView):
    serializer_class = serializers.PathwaySummarySerializer
    pagination_class = PartnerCursorPagination
    filter_backends: list[Any] = []
    allowed_query_parameters = frozenset({"cursor", "limit"})
    list_name = "pathways"

    def get_queryset(self) -> Any:
        return services.live_pathways().select_related("article").annotate(slug=F("article__slug"))


class PathwayDetail(LiveArticleView, generics.GenericAPIView):
    """Validators from the pathway's live identity, like an article's: 304 before anything is read."""

    serializer_class = serializers.PathwayDetailSerializer
    may_be_gone = True
    kind = PATHWAY
    representation_name = "pathway"

    @extend_schema(summary="One published pathway: its questions, outcomes and rules", tags=["triage"])
    def get(self, request: Request, slug: str) -> Response:
        return Response(self.cached_body(lambda: self.get_serializer(services.live_pathway(slug)).data))


class PathwayEvaluate(PartnerView, APIView):
    """Evaluate answers against the live revision; nothing about them is stored.

    The same logic as the public pages: every matching rule counts, the most urgent
    disposition wins, the fallback applies when none matches.
    """

    may_be_gone = True

    @extend_schema(
        summary="Evaluate answers (stateless)",
        tags=["triage"],
        request=serializers.EvaluateRequestSerializer,
        responses=serializers.EvaluationSerializer,
    )
    def post(self, request: Request, slug: str) -> Response:
        revision = services.live_pathway(slug)
        if not isinstance(request.data, dict):
            raise ValidationError({"answers": ['Send a JSON object: {"answers": {question key: answer}}.']})
        unknown = sorted(set(request.data) - {"answers"})
        if unknown:
            raise ValidationError({name: ["Unknown field; the body has only 'answers'."] for name in unknown})
        if "answers" not in request.data:
            raise ValidationError({"answers": ["This field is required."]})
        try:
            result = services.pathway_evaluate(revision=revision, answers=request.data["answers"])
        except engine.AnswerError as error:
            raise ValidationError({"answers": error.problems}) from None
        disposition = next(d for d in revision.triage_dispositions.all() if d.key == result.disposition.key)
        rules = {rule.key: rule for rule in revision.triage_rules.all()}
        questions = {question.key: question for question in revision.triage_questions.all()}
        review = revision.current_review
        data = {
            "pathway": revision.article.slug,
            "revision": revision.number,
            "content_hash": revision.content_hash,
            "disposition": disposition,
            "fired_rules": [{"key": key, "description": rules[key].description} for key in result.fired_rules],
            "red_flags": [{"key": key, "text": questions[key].text} for key in result.red_flags],
            "emergency_number": settings.TRIAGE_EMERGENCY_NUMBER,
            "safety_advice": notices.SAFETY_ADVICE,
            "disclaimer": notices.DISCLAIMER,
            "is_demonstration": review is None or review.reviewer_is_demonstration,
        }
        return Response(serializers.EvaluationSerializer(data, context={"request": request}).data)
