"""The partner API: read-only, published content only, reached through ``published()`` and ``articles.live``.

Every response's ``ETag`` and ``Last-Modified`` come from the live identity
(``live_identity`` for one article, ``site_identity`` for anything listing many)
before anything is serialised, so a partner's repeat request is a 304 that costs
the key lookup alone (``PartnerView.validators``), until the content really changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db.models import F, Q, QuerySet, Subquery
from django_filters.utils import translate_validation
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
    ChangeEvent,
    Medication,
    Revision,
    RevisionQuerySet,
    Symptom,
    atc_validator,
    rxcui_validator,
    snomed_validator,
)
from articles.models.articles import showing_symptom_coded
from articles.structured_data import MEDICAL_WEB_PAGE_SCHEMA, medical_web_page
from articles.vocabulary_history import show_vocabulary_as_reviewed
from contentsite.api.pagination import PartnerCursorPagination
from contentsite.api.schema import ecma_pattern
from contentsite.api.views import LiveArticleView, PartnerView, SiteListView
from contentsite.numbers import whole_number

from . import serializers
from .filters import ArticleFilter


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


def _with_payload(revisions: RevisionQuerySet) -> RevisionQuerySet:
    """What the payloads need: the article and its medication, the reviews, and the slug to order by."""
    return revisions.select_related("article__medication").with_review().annotate(slug=F("article__slug"))


def live_revisions() -> QuerySet[Revision]:
    """Live revisions with what the payloads need, ordered by slug for cursor pagination."""
    return _with_payload(Revision.objects.published().articles())


# --- Vocabulary ------------------------------------------------------------------------


class VocabularyView(SiteListView):
    """Only entries that live content uses: a new entry (from an author's import, say) stays out of
    sight until reviewed content that uses it is published. A change to an entry moves the site's clock."""

    lookup_field = "slug"
    pagination_class = PartnerCursorPagination
    filter_backends: list[Any] = []
    model: Any

    @classmethod
    def list_name_for(cls, kwargs: dict[str, Any]) -> str:
        return f"{cls.model._meta.model_name}:{kwargs.get('slug', '')}"

    def get_queryset(self) -> QuerySet[Any]:
        # Built per request: what is live depends on the time (scheduled publications).
        return self.model.objects.in_live_content()


class VocabularyDetail(VocabularyView, generics.RetrieveAPIView):
    found_by_its_body = True  # an entry no live content uses is a 404, whatever the site's clock says

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.cached_body(lambda: self.get_serializer(self.get_object()).data))


@extend_schema_view(get=extend_schema(summary="Medications", tags=["vocabulary"]))
class MedicationList(VocabularyView, generics.ListAPIView):
    model = Medication
    serializer_class = serializers.MedicationSerializer
    allowed_query_parameters = frozenset({"cursor", "limit"})


@extend_schema_view(get=extend_schema(summary="One medication", tags=["vocabulary"]))
class MedicationDetail(VocabularyDetail):
    model = Medication
    serializer_class = serializers.MedicationSerializer


@extend_schema_view(get=extend_schema(summary="Symptoms (the shared vocabulary)", tags=["vocabulary"]))
class SymptomList(VocabularyView, generics.ListAPIView):
    model = Symptom
    serializer_class = serializers.SymptomSerializer
    allowed_query_parameters = frozenset({"cursor", "limit"})


@extend_schema_view(get=extend_schema(summary="One symptom", tags=["vocabulary"]))
class SymptomDetail(VocabularyDetail):
    model = Symptom
    serializer_class = serializers.SymptomSerializer


# --- Articles --------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        summary="Live articles",
        description=(
            "Every live article, a summary each, in order of address (cursor-paginated: follow `next`), filtered by "
            "medication, RxCUI or `updated_since`. The full reviewed content is at each article's `url`."
        ),
        tags=["articles"],
        parameters=[
            OpenApiParameter(
                "rxcui",
                OpenApiTypes.STR,
                pattern=ecma_pattern(rxcui_validator),
                description="RxNorm RxCUI of the medication, e.g. 17767.",
            )
        ],
    )
)
class ArticleList(SiteListView, generics.ListAPIView):
    serializer_class = serializers.ArticleSummarySerializer
    pagination_class = PartnerCursorPagination
    filterset_class = ArticleFilter
    allowed_query_parameters = frozenset({"cursor", "limit", "medication", "rxcui", "updated_since"})
    list_name = "articles"

    def get_queryset(self) -> QuerySet[Revision]:
        return live_revisions()

    def check_query(self) -> None:
        super().check_query()
        # The filters' values judged (400 for a bad one), as the filter backend judges them, without building the
        # query: building it may read (``RevisionQuerySet.updated_since`` asks how many changed), and a 304 reads
        # nothing.
        for backend in self.filter_backends:
            filterset = backend().get_filterset(self.request, self.get_queryset(), self)
            if filterset is not None and not filterset.is_valid():
                raise translate_validation(filterset.errors)


class LiveRevisionView(LiveArticleView):
    """Shows revisions of the article at ``slug``: its live identity says which one is current (``is_current``)."""

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "live_revision_id": self._live.revision_id}  # type: ignore[misc]


class ArticleDetail(LiveRevisionView, generics.GenericAPIView):
    """The live revision of an article with its whole structured content.

    For schema.org JSON-LD use ``/articles/{slug}/jsonld/`` (``ArticleJsonLd``). Asking
    here with ``Accept: application/ld+json`` still answers the same JSON-LD, for the
    partners who did before that operation existed; the schema documents JSON only here,
    so a generated client never gets a body it cannot parse.
    """

    serializer_class = serializers.ArticleDetailSerializer
    renderer_classes = [JSONRenderer, JSONLDRenderer]
    may_be_gone = True
    representation_name = "article"

    @extend_schema(
        summary="One live article",
        tags=["articles"],
        # Content negotiation is by Accept header only: like every endpoint, this one answers
        # 400 to unknown query parameters, so DRF's `?format=` override is not offered.
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={(200, "application/json"): serializers.ArticleDetailSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(self.cached_body(self.build))

    def build(self) -> Any:
        revisions = _with_payload(Revision.objects.with_content())
        if self.request.accepted_renderer.format == "jsonld":
            # Dated as the page's JSON-LD: from the article's first publication, not the live revision's.
            return medical_web_page(revisions.with_first_published().get(pk=self._live.revision_id))
        return self.get_serializer(revisions.get(pk=self._live.revision_id)).data


class ArticleJsonLd(ArticleDetail):
    """The live revision as schema.org JSON-LD (a MedicalWebPage about its Drug and MedicalCondition), only."""

    renderer_classes = [JSONLDRenderer]
    representation_name = "article"  # the same validators as the detail's JSON-LD: one ETag for one body
    response_component = ("ArticleJsonLd", MEDICAL_WEB_PAGE_SCHEMA)

    @extend_schema(
        summary="One live article as schema.org JSON-LD",
        tags=["articles"],
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={(200, "application/ld+json"): {"$ref": "#/components/schemas/ArticleJsonLd"}},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(self.cached_body(self.build))


@extend_schema_view(get=extend_schema(summary="Published revisions of an article", tags=["articles"]))
class ArticleRevisionList(LiveRevisionView, generics.ListAPIView):
    """Every revision of a live article that has been published, newest first: the public page history."""

    serializer_class = serializers.RevisionHistorySerializer
    pagination_class = None
    may_be_gone = True
    representation_name = "history"

    def get_queryset(self) -> QuerySet[Revision]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no slug
            return Revision.objects.none()
        return (
            Revision.objects.ever_published()
            .filter(article_id=self._live.article_id)
            .select_related("article")
            .with_review()
            .with_withdrawal()
            .order_by("-number")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.cached_body(lambda: self.get_serializer(self.get_queryset(), many=True).data))


@extend_schema_view(get=extend_schema(summary="One published revision, by number (to pin it)", tags=["articles"]))
class ArticleRevisionDetail(LiveRevisionView, generics.RetrieveAPIView):
    """A pinned revision: its validators are the live identity's and the number (a publish changes ``is_current``)."""

    serializer_class = serializers.ArticleDetailSerializer
    may_be_gone = True
    found_by_its_body = True  # a number never published is a 404, whatever the article's identity says

    @classmethod
    def representation_for(cls, kwargs: dict[str, Any]) -> str:
        return f"revision:{kwargs['number']}"

    def get_object(self) -> Revision:
        revision = get_object_or_404(
            _with_payload(Revision.objects.ever_published().with_content()).filter(
                article_id=self._live.article_id, number=self.kwargs["number"]
            )
        )
        if revision.pk != self._live.revision_id:  # no longer live: the details as its reviewer approved them
            revision.vocabulary_as_of = show_vocabulary_as_reviewed(revision)
        return revision

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.cached_body(lambda: self.get_serializer(self.get_object()).data))


# --- Change feed ------------------------------------------------------------------------


def _whole_number(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    number = whole_number(raw)
    if number is None or not low <= number <= high:
        raise ValidationError({name: [f"A whole number from {low} to {high}."]})
    return number


class ChangeFeed(SiteListView, APIView):
    """Every publication, replacement and withdrawal, in commit order.

    Start with no ``after`` (or ``after=0``), apply the events in order, then
    request ``next``; when ``has_more`` is false you have caught up: poll ``next``
    later. Replaying the whole feed gives exactly the live articles and their live
    revision numbers: ``published`` makes a revision live, ``superseded`` and
    ``withdrawn`` end it. The last page also carries, without an id, a scheduled
    publication whose time has come but that is not recorded yet (it is live
    already); it comes again, with an id, once recorded. Those too come at most
    ``limit`` to a page: ``next`` goes on through them (``pending_after``), then
    back to the last event with an id. Reading never writes.
    """

    allowed_query_parameters = frozenset({"after", "limit", "pending_after"})
    max_limit = 500
    max_pending_after = 2**62  # as `after`: twice a revision id, which stays far below it
    list_name = "changes"

    def check_query(self) -> None:
        _whole_number(self.request, "after", 0, 0, 2**62)
        _whole_number(self.request, "limit", 100, 1, self.max_limit)
        _whole_number(self.request, "pending_after", 0, 0, self.max_pending_after)

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
            OpenApiParameter(
                "pending_after",
                {"type": "integer", "minimum": 0, "maximum": max_pending_after},
                description=(
                    "Set by `next` alone, part way through the events without an id: those after this one "
                    "(default 0: from the first). Follow `next` as given."
                ),
            ),
        ],
        responses=serializers.ChangeFeedSerializer,
    )
    def get(self, request: Request) -> Response:
        after = _whole_number(request, "after", 0, 0, 2**62)
        limit = _whole_number(request, "limit", 100, 1, self.max_limit)
        pending_after = _whole_number(request, "pending_after", 0, 0, self.max_pending_after)
        page = ChangeEvent.objects.articles().page(after=after, limit=limit, pending_after=pending_after)
        query = f"?after={page.after}&limit={limit}"
        if page.pending_after:
            query += f"&pending_after={page.pending_after}"
        next_url = reverse("v1:change-feed", request=request) + query
        data = {"events": page.events, "next": next_url, "has_more": page.has_more}
        return Response(serializers.ChangeFeedSerializer(data, context=self.get_serializer_context()).data)

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request}


# --- Code lookup (HL7 Infobutton / MedlinePlus Connect style) ------------------------------

CODE_SYSTEM = "mainSearchCriteria.v.cs"
CODE = "mainSearchCriteria.v.c"


class CodeSystem:
    def __init__(self, oid: str, name: str, about: Callable[[str], Any], validator: Any) -> None:
        # ``about(code)``: the condition on a revision, one row per revision (no join that multiplies rows).
        self.oid, self.name, self.about, self.validator = oid, name, about, validator


def _one_medication(**code: str) -> Subquery:
    return Subquery(Medication.objects.filter(**code).order_by().values("pk")[:1])


CODE_SYSTEMS = {
    system.oid: system
    for system in (
        # An RxCUI names at most one medication (a unique code): read as that medication's articles.
        CodeSystem(
            "2.16.840.1.113883.6.88",
            "RxNorm",
            lambda code: Q(article__medication_id=_one_medication(rxnorm_rxcui=code)),
            rxcui_validator,
        ),
        CodeSystem(
            "2.16.840.1.113883.6.73",
            "WHO ATC",
            lambda code: Q(article__medication_id__in=Medication.objects.filter(atc_code=code)),
            atc_validator,
        ),
        CodeSystem("2.16.840.1.113883.6.96", "SNOMED CT", showing_symptom_coded, snomed_validator),
    )
}
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


class CodeLookup(SiteListView, generics.GenericAPIView):
    """Live articles about a coded concept: a medication (RxNorm, ATC) or a symptom (SNOMED CT).

    Parameters follow the HL7 Infobutton URL convention used by MedlinePlus Connect.
    An unknown code answers an empty result; a malformed request answers 400.
    Results come in pages, like the article list (``limit``, ``cursor``, ``next``).
    """

    allowed_query_parameters = frozenset({CODE_SYSTEM, CODE, "knowledgeResponseType", "cursor", "limit"})
    pagination_class = PartnerCursorPagination
    filter_backends: list[Any] = []
    list_name = "lookup"

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
                pattern="^(?:" + "|".join(ecma_pattern(s.validator)[1:-1] for s in CODE_SYSTEMS.values()) + ")$",
                required=True,
                description="The code, e.g. RxCUI 17767.",
            ),
            OpenApiParameter(
                "knowledgeResponseType",
                OpenApiTypes.STR,
                enum=["application/json"],
                description="Accepted for Infobutton compatibility; only JSON is served.",
            ),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="The pagination cursor value (follow `next`)."),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": PartnerCursorPagination.max_page_size},
                description="Number of results to return per page.",
            ),
        ],
        responses=serializers.LookupResultSerializer,
    )
    def get(self, request: Request) -> Response:
        system, code = self.criteria()
        revisions = live_revisions().filter(system.about(code))
        page = self.paginate_queryset(revisions)
        data = {
            "code_system": {"oid": system.oid, "name": system.name},
            "code": code,
            "next": self.paginator.get_next_link(),
            "previous": self.paginator.get_previous_link(),
            "results": page,
        }
        return Response(serializers.LookupResultSerializer(data, context={"request": request}).data)

    def check_query(self) -> None:
        super().check_query()
        self.criteria()

    def criteria(self) -> tuple[CodeSystem, str]:
        """The code system and code asked for; 400 naming every malformed parameter."""
        params = self.request.query_params
        # As sent, not stripped: the schema's patterns refuse surrounding spaces, and so does the server.
        oid = params.get(CODE_SYSTEM, "")
        code = params.get(CODE, "")
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
        response_type = params.get("knowledgeResponseType")
        if response_type not in (None, "application/json"):
            errors["knowledgeResponseType"] = ["Only application/json is served."]
        if not errors and oid in CODE_SYSTEMS:
            try:
                CODE_SYSTEMS[oid].validator(code)
            except Exception as error:
                errors[CODE] = list(getattr(error, "messages", [str(error)]))
        if errors:
            raise ValidationError(errors)
        return CODE_SYSTEMS[oid], code


# --- Anything else under /api/v1/ ----------------------------------------------------------


@extend_schema(exclude=True)
class NotFoundView(PartnerView, APIView):
    """A URL no endpoint matches: the API's JSON 404 (after the key check), not the site's HTML page."""

    @property
    def default_response_headers(self) -> dict[str, str]:
        headers = super().default_response_headers
        headers.pop("Allow", None)  # nothing is here: no method is allowed, OPTIONS included (a 404 too)
        return headers

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound()
