"""Published pathways for partners, and stateless evaluation, under the same keys and limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from articles.limits import CONTENT_HASH_CHARS
from articles.live import SITE_POINTER, identity_cache_keys, site_identity
from contentsite.api.pagination import PartnerCursorPagination
from contentsite.api.parsers import peek_json
from contentsite.api.views import DecidedBody, IdentityValidators, LiveArticleView, PartnerView, SiteListView
from contentsite.early import Validators
from partners.authentication import authenticated_key
from partners.throttling import rate_limit_wait
from triage import engine, notices, services
from triage.content import CompiledDisposition, CompiledPathway
from triage.models import PATHWAY

from . import serializers

# The largest body evaluated before its request is admitted (a pathway's answers take a few hundred bytes); a
# larger one is evaluated once admitted, at one cache round trip more.
EVALUATE_AHEAD_MAX_BYTES = 16_384


@extend_schema_view(
    get=extend_schema(
        summary="Published triage pathways",
        description=(
            "Every published triage pathway, a summary each, in order of address (cursor-paginated: follow `next`)."
        ),
        tags=["triage"],
    )
)
class PathwayList(SiteListView, generics.ListAPIView):
    serializer_class = serializers.PathwaySummarySerializer
    pagination_class = PartnerCursorPagination
    filter_backends: list[Any] = []
    allowed_query_parameters = frozenset({"cursor", "limit"})
    list_name = "pathways"

    def get_queryset(self) -> Any:
        return services.live_pathways().select_related("article").annotate(slug=F("article__slug"))


class PathwayDetail(LiveArticleView, generics.GenericAPIView):
    """A disposition links only to articles that are live now, so the ETag and Last-Modified follow the site's
    publications and withdrawals as well as the pathway's own revision. A matching conditional GET is a 304."""

    serializer_class = serializers.PathwayDetailSerializer
    may_be_gone = True
    kind = PATHWAY
    representation_name = "pathway"

    @classmethod
    def identity_validators(cls, kwargs: dict[str, Any]) -> IdentityValidators | None:
        return None  # two identities: the pathway's and the site's (``validators``)

    @classmethod
    def prefetch_keys(cls, kwargs: dict[str, Any]) -> Sequence[str]:
        return (*cls.live_validators(kwargs).keys, SITE_POINTER)

    def validators(self) -> Validators | None:
        self._live = self.live
        site = site_identity()
        moments = [moment for moment in (self._live.last_modified, site.last_modified) if moment is not None]
        etag = self._live.etag(self.representation_name, *self.representation(site.etag()))
        return Validators(etag, max(moments, default=None))

    @extend_schema(summary="One published pathway: its questions, outcomes and rules", tags=["triage"])
    def get(self, request: Request, slug: str) -> Response:
        return Response(self.cached_body(lambda: self.get_serializer(services.live_pathway(slug)).data))


class PathwayEvaluate(PartnerView, APIView):
    """Evaluate answers, all or some, against the live revision; nothing about them is stored.

    The same logic as the public pages: every matching rule counts, the most urgent
    disposition wins, the fallback applies when none matches; and, as the pages ask one
    question at a time, the outcome comes as soon as no further answer could make it
    more urgent or change its advice (``complete``), else ``next_question`` says what to ask next.
    """

    # One cache round trip once this process has evaluated the pathway: the answers are evaluated before the
    # request is admitted (``services.evaluate_ahead``) and the outcome counted with the key and the rate limit;
    # the request's evaluation keeps that count, or counts its own and the guess is taken back
    # (``services.outcome_settle``), whatever the answer. Once this process has answered a kind of evaluation 200
    # (``kind_of_body``), the next of that kind is answered without DRF's request cycle (``answer_as_decided``),
    # by the same rules: about a quarter of an evaluation's CPU in the process (``make bench`` measures it).
    may_be_gone = True
    ahead: services.EvaluationAhead | None = None
    evaluation: services.Evaluation | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            kind, decided = self.kind_of_body(request, kwargs)
            answered = self.answer_as_decided(request, decided) if decided is not None else None
            if answered is not None:
                return answered
            response = super().dispatch(request, *args, **kwargs)
            if self.evaluation is not None:
                self.keep_decided_body(kind, response)
            return response
        finally:
            if self.ahead is not None:
                services.outcome_settle(self.counted_ahead(), self.evaluation)

    def answer_as_decided(self, request: HttpRequest, decided: DecidedBody) -> HttpResponse | None:
        """The 200 to an evaluation of a kind this view answered before (``kind_of_body``: its negotiation, version,
        query and body's media type decided as then), asking only what differs per request, by the same rules
        as DRF's steps: the key and the rate (``authenticated_key``, ``rate_limit_wait``, in the one round trip
        with what is live and the outcome counted ahead), the body and the answers (``evaluated``). None, before
        anything is counted but the admission: anything else (a refused key, a spent limit, a body or answers
        refused, a pathway gone), which DRF then answers, admitting and counting the request no second time."""
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            return None
        body = self.work_out_ahead(request)
        if body is None:  # not JSON, too large to read ahead, or malformed: as DRF reads it
            return None
        try:
            key = authenticated_key(request, header, self.prefetch_keys(self.kwargs), self.counts_ahead())
            if rate_limit_wait(request, key) is not None:
                return None
            pathway = services.compiled_pathway(self.kwargs["slug"])
            evaluation = self.evaluated(pathway, body)
        except Exception:  # refused, over the limit, malformed, gone or failing: DRF says so, as the view would
            return None
        return decided.response(request, self.evaluation_data(pathway, evaluation))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if "HTTP_AUTHORIZATION" in request.META:  # without a key it is refused: nothing to work out ahead
            self.work_out_ahead(request._request)
        super().initial(request, *args, **kwargs)

    def work_out_ahead(self, request: HttpRequest) -> Any:
        """The body (``peek_json``: None if it is not read ahead) evaluated before the request is admitted
        (``services.evaluate_ahead``), so that the admission's round trip counts its outcome too."""
        body = peek_json(request, max_bytes=EVALUATE_AHEAD_MAX_BYTES)
        self.ahead = services.evaluate_ahead(self.kwargs["slug"], body)
        return body

    @classmethod
    def prefetch_keys(cls, kwargs: dict[str, Any]) -> Sequence[str]:
        # The site's clock too: which of the articles a result links to are live now (``services.articles_live_now``).
        return (*identity_cache_keys(kwargs["slug"], kind=PATHWAY), SITE_POINTER)

    def counts_ahead(self) -> Sequence[tuple[str, int]]:
        return ((self.ahead.counter, services.OUTCOME_COUNT_SECONDS),) if self.ahead else ()

    @extend_schema(
        summary="Evaluate answers, all or some (stateless)",
        tags=["triage"],
        request=serializers.EvaluateRequestSerializer,
        responses=serializers.EvaluationSerializer,
    )
    def post(self, request: Request, slug: str) -> Response:
        pathway = services.compiled_pathway(slug)
        return Response(self.evaluation_data(pathway, self.evaluated(pathway, request.data)))

    def evaluated(self, pathway: CompiledPathway, data: Any) -> services.Evaluation:
        """``data`` (the request's body) checked and its answers evaluated against ``pathway``: ``ValidationError``
        (400) for a body or answers refused, before anything is counted; the outcome counted last."""
        if not isinstance(data, dict):
            raise ValidationError({"answers": ['Send a JSON object: {"answers": {question key: answer}}.']})
        unknown = sorted(set(data) - services.EVALUATE_FIELDS)
        if unknown:
            raise ValidationError(
                {
                    engine.shown(name): ["Unknown field; the body has only 'answers' and 'content_hash'."]
                    for name in unknown[: engine.MAX_REPORTED_KEYS]
                }
            )
        if "answers" not in data:
            raise ValidationError({"answers": ["This field is required."]})
        if "content_hash" in data:
            _check_asked_in(pathway, data["content_hash"])
        try:
            evaluation = self.evaluation = services.pathway_evaluate(
                pathway=pathway, answers=data["answers"], ahead=self.ahead, counted_ahead=self.counted_ahead()
            )
        except engine.AnswerError as error:
            # Each question's problem under its key (``/answers/<key>``), or the answers' own (``/answers``).
            raise ValidationError({"answers": [error.whole] if error.whole else error.problems}) from None
        return evaluation

    @staticmethod
    def evaluation_data(pathway: CompiledPathway, evaluation: services.Evaluation) -> dict[str, Any]:
        """The body for ``evaluation``, built from the compiled pathway as ``EvaluationSerializer`` describes it: no
        row, no query. Until it is settled, the answers so far: no outcome, the red flags already present, what
        to ask next."""
        result = evaluation.result
        present = result.red_flags if result else _red_flags(pathway.pathway, evaluation.answers)
        return {
            "pathway": pathway.slug,
            "revision": pathway.number,
            "content_hash": pathway.content_hash,
            "complete": evaluation.complete,
            "next_question": evaluation.next_question.key if evaluation.next_question else None,
            "disposition": (
                _disposition(pathway.dispositions[result.disposition.key], services.articles_live_now(pathway))
                if result
                else None
            ),
            "fired_rules": [
                {"key": key, "description": pathway.rules[key][0]} for key in (result.fired_rules if result else ())
            ],
            "red_flags": [{"key": key, "text": pathway.question_texts[key]} for key in present],
            "emergency_number": settings.TRIAGE_EMERGENCY_NUMBER,
            "urgent_advice": {
                "number": settings.TRIAGE_URGENT_ADVICE_NUMBER,
                "name": settings.TRIAGE_URGENT_ADVICE_NAME,
            },
            "safety_advice": notices.SAFETY_ADVICE,
            "disclaimer": notices.DISCLAIMER,
            "is_demonstration": pathway.is_demonstration,
        }


def _check_asked_in(pathway: CompiledPathway, content_hash: Any) -> None:
    """Refuse (400, ``pathway_changed``) answers asked in the words of a revision other than the live one: a
    partner that sends the ``content_hash`` of the revision whose questions it asked never has them evaluated
    against another revision's questions, which may be worded otherwise."""
    if not isinstance(content_hash, str) or not content_hash or len(content_hash) > CONTENT_HASH_CHARS:
        raise ValidationError({"content_hash": ["Give the content_hash of the revision whose questions were asked."]})
    if content_hash != pathway.content_hash:
        message = (
            f"The pathway has changed since its questions were asked: revision {pathway.number} is live now, with "
            f"content_hash {pathway.content_hash}. Fetch it again and ask its questions."
        )
        raise ValidationError({"content_hash": [ErrorDetail(message, code="pathway_changed")]})


def _red_flags(pathway: engine.Pathway, answers: dict[str, frozenset[str]]) -> tuple[str, ...]:
    return engine.evaluate(pathway, answers).red_flags


def _disposition(disposition: CompiledDisposition, live: frozenset[int]) -> dict[str, Any]:
    """A disposition as ``serializers.DispositionSerializer`` shows it: of its articles, those ``live`` now."""
    return {
        "key": disposition.key,
        "level": disposition.level.slug,
        "title": disposition.title,
        "advice_markdown": disposition.advice,
        "advice_html": disposition.advice_html,
        "safety_netting_markdown": disposition.safety_netting,
        "safety_netting_html": disposition.safety_netting_html,
        "is_fallback": disposition.is_fallback,
        "articles": [
            settings.PUBLIC_BASE_URL + path
            for pk, path in zip(disposition.article_ids, disposition.article_paths, strict=True)
            if pk in live
        ],
    }
