"""The partner API: read-only, published content only, reached through ``published()`` and ``get_live()``.

Responses carry ``ETag`` (a hash of the body, set by ``ConditionalGetMiddleware``,
which also answers 304) and ``Last-Modified`` (set here), so a partner's repeat
request costs a 304 until the content really changes.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import F, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from articles.models import (
    ArticleKind,
    ChangeEvent,
    ClinicalReview,
    Medication,
    Revision,
    RevisionQuerySet,
    Symptom,
    atc_validator,
    rxcui_validator,
    snomed_validator,
)
from articles.structured_data import medical_web_page
from contentsite.api.pagination import PartnerCursorPagination
from contentsite.api.views import PartnerView

from . import serializers
from .filters import ArticleFilter


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


def content_clock() -> Any:
    """The last moment anything partners can see changed: a publication, replacement, withdrawal or review,
    or a change to the medication or symptoms a live article shows."""
    latest_event = ChangeEvent.objects.articles().aggregate(moment=Max("occurred_at"))["moment"]
    latest_review = ClinicalReview.objects.filter(revision__article__kind=ArticleKind.ARTICLE).aggregate(
        moment=Max("reviewed_at")
    )["moment"]
    latest = (
        Revision.objects.published()
        .articles()
        .with_vocabulary_updated_at()
        .aggregate(due=Max("publish_at"), vocabulary=Max("vocabulary_updated_at"))
    )
    moments = [moment for moment in (latest_event, latest_review, latest["due"], latest["vocabulary"]) if moment]
    return max(moments) if moments else None


def _with_payload(revisions: RevisionQuerySet) -> RevisionQuerySet:
    """What the payloads need: medication, reviews, the slug and the payload's last change."""
    latest_review = ClinicalReview.objects.filter(revision=OuterRef("pk")).order_by("-reviewed_at", "-pk")
    live_from = Coalesce("published_at", "publish_at")
    return (
        revisions.select_related("article__medication")
        .with_review()
        .with_vocabulary_updated_at()
        .annotate(
            slug=F("article__slug"),
            payload_updated_at=Greatest(
                live_from,
                Coalesce(Subquery(latest_review.values("reviewed_at")[:1]), live_from),
                Coalesce("vocabulary_updated_at", live_from),
            ),
        )
    )


def live_revisions() -> QuerySet[Revision]:
    """Live revisions with what the payloads need, ordered by slug for cursor pagination."""
    return _with_payload(Revision.objects.published().articles())


def live_article(slug: str, revisions: RevisionQuerySet | None = None) -> Revision:
    """The live revision of the article at ``slug``; 410 Gone if withdrawn, 404 if never public (``get_live``)."""
    return (revisions if revisions is not None else Revision.objects.all()).get_live(slug, kind=ArticleKind.ARTICLE)


# --- Vocabulary ------------------------------------------------------------------------


class VocabularyView(PartnerView):
    """Only entries that live content uses: a new entry (from an author's import, say) stays out of
    sight until reviewed content that uses it is published."""

    lookup_field = "slug"
    pagination_class = PartnerCursorPagination
    filter_backends: list[Any] = []
    model: Any

    def get_queryset(self) -> QuerySet[Any]:
        # Built per request: what is live depends on the time (scheduled publications).
        return self.model.objects.in_live_content()

    def last_modified(self) -> Any:
        return self.get_queryset().aggregate(moment=Max("updated_at"))["moment"]


@extend_schema_view(get=extend_schema(summary="Medications", tags=["vocabulary"]))
class MedicationList(VocabularyView, generics.ListAPIView):
    model = Medication
    serializer_class = serializers.MedicationSerializer
    allowed_query_parameters = frozenset({"cursor", "limit"})


@extend_schema_view(get=extend_schema(summary="One medication", tags=["vocabulary"]))
class MedicationDetail(VocabularyView, generics.RetrieveAPIView):
    model = Medication
    serializer_class = serializers.MedicationSerializer

    def last_modified(self) -> Any:
        return self.get_object().updated_at


@extend_schema_view(get=extend_schema(summary="Symptoms (the shared vocabulary)", tags=["vocabulary"]))
class SymptomList(VocabularyView, generics.ListAPIView):
    model = Symptom
    serializer_class = serializers.SymptomSerializer
    allowed_query_parameters = frozenset({"cursor", "limit"})


@extend_schema_view(get=extend_schema(summary="One symptom", tags=["vocabulary"]))
class SymptomDetail(VocabularyView, generics.RetrieveAPIView):
    model = Symptom
    serializer_class = serializers.SymptomSerializer

    def last_modified(self) -> Any:
        return self.get_object().updated_at


# --- Articles --------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        summary="Live articles",
        tags=["articles"],
        parameters=[
            OpenApiParameter(
                "rxcui",
                OpenApiTypes.STR,
                pattern=rxcui_validator.regex.pattern,
                description="RxNorm RxCUI of the medication, e.g. 17767.",
            )
        ],
    )
)
class ArticleList(PartnerView, generics.ListAPIView):
    serializer_class = serializers.ArticleSummarySerializer
    pagination_class = PartnerCursorPagination
    filterset_class = ArticleFilter
    allowed_query_parameters = frozenset({"cursor", "limit", "medication", "rxcui", "updated_since"})

    def get_queryset(self) -> QuerySet[Revision]:
        return live_revisions()

    def last_modified(self) -> Any:
        return content_clock()


class ArticleDetail(PartnerView, generics.GenericAPIView):
    """The live revision of an article with its whole structured content.

    Ask with ``Accept: application/ld+json`` for schema.org JSON-LD (MedicalWebPage).
    """

    serializer_class = serializers.ArticleDetailSerializer
    renderer_classes = [JSONRenderer, JSONLDRenderer]
    may_be_gone = True

    def get_revision(self) -> Revision:
        return live_article(self.kwargs["slug"], _with_payload(Revision.objects.with_content()))

    def last_modified(self) -> Any:
        return serializers.updated_at(self._revision)

    @extend_schema(
        summary="One live article",
        tags=["articles"],
        # Content negotiation is by Accept header only: like every endpoint, this one answers
        # 400 to unknown query parameters, so DRF's `?format=` override is not offered.
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={
            (200, "application/json"): serializers.ArticleDetailSerializer,
            (200, "application/ld+json"): OpenApiTypes.OBJECT,
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        self._revision = self.get_revision()
        if request.accepted_renderer.format == "jsonld":
            return Response(medical_web_page(self._revision))
        return Response(self.get_serializer(self._revision).data)


@extend_schema_view(get=extend_schema(summary="Published revisions of an article", tags=["articles"]))
class ArticleRevisionList(PartnerView, generics.ListAPIView):
    """Every revision of a live article that has been published, newest first: the public page history."""

    serializer_class = serializers.RevisionHistorySerializer
    pagination_class = None
    may_be_gone = True

    def get_queryset(self) -> QuerySet[Revision]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no slug
            return Revision.objects.none()
        return (
            Revision.objects.ever_published()
            .articles()
            .filter(article__slug=self.kwargs["slug"])
            .select_related("article")
            .with_review()
            .order_by("-number")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        live_article(self.kwargs["slug"])
        revisions = list(self.get_queryset())
        self._revisions = revisions
        return Response(self.get_serializer(revisions, many=True).data)

    def last_modified(self) -> Any:
        moments = [serializers.updated_at(revision) for revision in self._revisions]
        return max(moment for moment in moments if moment)


@extend_schema_view(get=extend_schema(summary="One published revision, by number (to pin it)", tags=["articles"]))
class ArticleRevisionDetail(PartnerView, generics.RetrieveAPIView):
    serializer_class = serializers.ArticleDetailSerializer
    may_be_gone = True

    def get_object(self) -> Revision:
        live = live_article(self.kwargs["slug"])
        self._revision = get_object_or_404(
            Revision.objects.ever_published()
            .filter(article_id=live.article_id, number=self.kwargs["number"])
            .select_related("article__medication")
            .with_content()
            .with_review()
        )
        return self._revision

    def last_modified(self) -> Any:
        return serializers.updated_at(self._revision)


# --- Change feed ------------------------------------------------------------------------


def _whole_number(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ValidationError({name: [f"A whole number from {low} to {high}."]})
    return int(raw)


class ChangeFeed(PartnerView, APIView):
    """Every publication, replacement and withdrawal, in commit order.

    Start with no ``after`` (or ``after=0``), apply the events in order, then
    request ``next``; when ``has_more`` is false you have caught up: poll ``next``
    later. Replaying the whole feed gives exactly the live articles and their live
    revision numbers: ``published`` makes a revision live, ``superseded`` and
    ``withdrawn`` end it. The last page also carries, without an id, a scheduled
    publication whose time has come but that is not recorded yet (it is live
    already); it comes again, with an id, once recorded. Reading never writes.
    """

    allowed_query_parameters = frozenset({"after", "limit"})
    max_limit = 500

    @extend_schema(
        summary="Change feed",
        tags=["changes"],
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0, "maximum": 2**62},
                description="Events after this id (default 0: from the start).",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": max_limit},
                description="At most this many events, 1 to 500 (default 100).",
            ),
        ],
        responses=serializers.ChangeFeedSerializer,
    )
    def get(self, request: Request) -> Response:
        after = _whole_number(request, "after", 0, 0, 2**62)
        limit = _whole_number(request, "limit", 100, 1, self.max_limit)
        events = list(
            ChangeEvent.objects.articles()
            .filter(pk__gt=after)
            .select_related("article", "revision")
            .order_by("pk")[: limit + 1]
        )
        has_more = len(events) > limit
        events = events[:limit]
        last = events[-1].pk if events else after
        if not has_more:
            # Live for readers already, recorded later by publish_scheduled: shown without an id
            # (the cursor does not move past them) and again, with an id, once recorded.
            events += ChangeEvent.objects.pending()
        next_url = reverse("v1:change-feed", request=request) + f"?after={last}&limit={limit}"
        # Pending events come last but may be older than the last recorded one: the latest of all.
        self._last_modified = max((event.occurred_at for event in events), default=None)
        data = {"events": events, "next": next_url, "has_more": has_more}
        return Response(serializers.ChangeFeedSerializer(data, context=self.get_serializer_context()).data)

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request}

    def last_modified(self) -> Any:
        return self._last_modified


# --- Code lookup (HL7 Infobutton / MedlinePlus Connect style) ------------------------------

CODE_SYSTEM = "mainSearchCriteria.v.cs"
CODE = "mainSearchCriteria.v.c"


class CodeSystem:
    def __init__(self, oid: str, name: str, field: str, validator: Any) -> None:
        self.oid, self.name, self.field, self.validator = oid, name, field, validator


CODE_SYSTEMS = {
    system.oid: system
    for system in (
        CodeSystem("2.16.840.1.113883.6.88", "RxNorm", "article__medication__rxnorm_rxcui", rxcui_validator),
        CodeSystem("2.16.840.1.113883.6.73", "WHO ATC", "article__medication__atc_code", atc_validator),
        CodeSystem("2.16.840.1.113883.6.96", "SNOMED CT", "symptom_entries__symptom__snomed_ct_code", snomed_validator),
    )
}
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


class CodeLookup(PartnerView, APIView):
    """Live articles about a coded concept: a medication (RxNorm, ATC) or a symptom (SNOMED CT).

    Parameters follow the HL7 Infobutton URL convention used by MedlinePlus Connect.
    An unknown code answers an empty result; a malformed request answers 400.
    """

    allowed_query_parameters = frozenset({CODE_SYSTEM, CODE, "knowledgeResponseType"})

    @extend_schema(
        summary="Look up articles by code",
        tags=["lookup"],
        parameters=[
            OpenApiParameter(
                CODE_SYSTEM,
                OpenApiTypes.STR,
                enum=list(CODE_SYSTEMS),
                required=True,
                description="Code system OID: " + "; ".join(f"{s.oid} ({s.name})" for s in CODE_SYSTEMS.values()),
            ),
            OpenApiParameter(
                CODE,
                OpenApiTypes.STR,
                # Any system's code format; the code must also be valid in the chosen system.
                pattern="^(?:" + "|".join(s.validator.regex.pattern.strip("^$") for s in CODE_SYSTEMS.values()) + ")$",
                required=True,
                description="The code, e.g. RxCUI 17767.",
            ),
            OpenApiParameter(
                "knowledgeResponseType",
                OpenApiTypes.STR,
                enum=["application/json"],
                description="Accepted for Infobutton compatibility; only JSON is served.",
            ),
        ],
        responses=serializers.LookupResultSerializer,
    )
    def get(self, request: Request) -> Response:
        oid = request.query_params.get(CODE_SYSTEM, "").strip()
        code = request.query_params.get(CODE, "").strip()
        errors: dict[str, list[str]] = {}
        if not oid:
            errors[CODE_SYSTEM] = ["Required: the code system OID, e.g. 2.16.840.1.113883.6.88 for RxNorm."]
        elif not _OID.match(oid):
            errors[CODE_SYSTEM] = ["Not an OID (dotted numbers such as 2.16.840.1.113883.6.88)."]
        elif oid not in CODE_SYSTEMS:
            supported = ", ".join(f"{s.oid} ({s.name})" for s in CODE_SYSTEMS.values())
            errors[CODE_SYSTEM] = [f"Unsupported code system; supported: {supported}."]
        if not code:
            errors[CODE] = ["Required: the code to look up."]
        response_type = request.query_params.get("knowledgeResponseType")
        if response_type not in (None, "application/json"):
            errors["knowledgeResponseType"] = ["Only application/json is served."]
        if not errors and oid in CODE_SYSTEMS:
            try:
                CODE_SYSTEMS[oid].validator(code)
            except Exception as error:
                errors[CODE] = list(getattr(error, "messages", [str(error)]))
        if errors:
            raise ValidationError(errors)
        system = CODE_SYSTEMS[oid]
        revisions = live_revisions().filter(**{system.field: code}).distinct().order_by("slug")
        data = {"code_system": {"oid": system.oid, "name": system.name}, "code": code, "results": list(revisions)}
        return Response(serializers.LookupResultSerializer(data, context={"request": request}).data)

    def last_modified(self) -> Any:
        return content_clock()


# --- Anything else under /api/v1/ ----------------------------------------------------------


@extend_schema(exclude=True)
class NotFoundView(APIView):
    """A URL no endpoint matches: the API's JSON 404 (after the key check), not the site's HTML page."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound()
