"""The partner API's content negotiation answers exactly as DRF's own, only sooner when the choice is the view's."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from articles.api.views import ArticleDetail, ArticleJsonLd
from contentsite.api.negotiation import PartnerContentNegotiation
from triage.api.views import PathwayEvaluate

factory = APIRequestFactory()

RENDERER_LISTS = [
    [renderer() for renderer in ArticleDetail.renderer_classes],
    [renderer() for renderer in ArticleJsonLd.renderer_classes],
    [renderer() for renderer in PathwayEvaluate.renderer_classes],
    [JSONRenderer(), BrowsableAPIRenderer()],
]
MEDIA_TYPES = [
    "*/*",
    "application/json",
    "application/ld+json",
    "text/html",
    "application/*",
    "application/json; indent=4",
    "application/ld+json;q=0.5",
    "application/json;q=0",
    "*/*;q=0.1",
    "text/plain",
    "",
    " */* ",
]


def decide(negotiation: Any, accept: str | None, renderers: list[Any], query: str, suffix: str | None) -> Any:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(factory.get(f"/api/v1/x/{query}", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except NotAcceptable:
        return "406"
    except Exception as error:  # Http404 for an unknown format suffix
        return type(error).__name__
    return type(renderer).__name__, media_type


@given(
    accept=st.one_of(
        st.none(),
        st.sampled_from(MEDIA_TYPES),
        st.lists(st.sampled_from(MEDIA_TYPES), min_size=1, max_size=4).map(", ".join),
    ),
    renderers=st.sampled_from(RENDERER_LISTS),
    query=st.sampled_from(["", "?format=json", "?format=jsonld", "?limit=1"]),
    suffix=st.sampled_from([None, "json", "jsonld", "html"]),
)
def test_the_answer_is_drfs_when_no_preference_is_weighed(accept, renderers, query, suffix):
    """DRF ranks media ranges by how specific they are and in the header's order, ignoring their weights (``q``):
    without weights, that is RFC 9110's answer too."""
    assume(accept is None or "q=" not in accept)
    assert decide(PartnerContentNegotiation(), accept, renderers, query, suffix) == decide(
        DefaultContentNegotiation(), accept, renderers, query, suffix
    )


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_the_commonest_requests_do_not_parse_the_accept_header(accept, monkeypatch):
    monkeypatch.setattr(
        DefaultContentNegotiation, "get_accept_list", lambda *a: pytest.fail("parsed the Accept header")
    )
    assert decide(PartnerContentNegotiation(), accept, RENDERER_LISTS[0], "", None) == (
        "JSONRenderer",
        "application/json",
    )


JSON_OR_LD = RENDERER_LISTS[0]  # an article: application/json first, application/ld+json second
JSON, JSON_LD = "JSONRenderer", "JSONLDRenderer"


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        # A weight of 0 refuses the media type (RFC 9110, 12.4.2): DRF sent JSON.
        ("application/json;q=0", "406"),
        ("*/*;q=0", "406"),
        ("application/*;q=0", "406"),
        # The most specific range that matches a media type gives its weight (12.5.1).
        ("*/*, application/json;q=0", JSON_LD),
        ("application/*, application/json;q=0.2", JSON_LD),
        # The heavier weight wins: DRF took the view's first media type that any range matched.
        ("application/json;q=0.4, application/ld+json;q=0.9", JSON_LD),
        ("application/ld+json;q=0.5, application/json", JSON),
        # Equal weights: the view's order decides.
        ("application/ld+json;q=0.5, application/json;q=0.5", JSON),
        # A weight that is no number between 0 and 1 counts as 1, as Django reads it.
        ("application/json;q=abc", JSON),
        ("application/ld+json;q=2, application/json;q=0.9", JSON_LD),
    ],
)
def test_weights_decide_as_rfc_9110_says(accept, answer):
    chosen = decide(PartnerContentNegotiation(), accept, JSON_OR_LD, "", None)
    assert (chosen if chosen == "406" else chosen[0]) == answer


@given(
    renderers=st.sampled_from(RENDERER_LISTS),
    refused=st.sampled_from(["application/json", "application/ld+json", "text/html"]),
    suffix=st.sampled_from([None, "json", "jsonld"]),
    data=st.data(),
)
def test_a_media_type_refused_is_never_the_answer(renderers, refused, suffix, data):
    """Whatever wider ranges the header accepts (``*/*``, ``application/*``) and in whatever order."""
    others = st.sampled_from([media_type for media_type in MEDIA_TYPES if refused not in media_type])
    accept = data.draw(st.lists(others, max_size=4).map(", ".join))
    answer = decide(PartnerContentNegotiation(), f"{accept}, {refused};q=0", renderers, "", suffix)
    assert not (isinstance(answer, tuple) and answer[1].split(";")[0] == refused)
