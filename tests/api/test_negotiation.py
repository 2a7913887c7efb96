"""The partner API's content negotiation answers exactly as DRF's own, only sooner when the choice is the view's."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
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
def test_the_answer_is_drfs_whatever_is_asked(accept, renderers, query, suffix):
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
