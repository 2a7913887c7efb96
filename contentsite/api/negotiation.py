"""DRF's content negotiation, weighing the ``Accept`` header's preferences (``q``) as RFC 9110 says.

DRF ranks the ranges of an ``Accept`` header by how specific they are and ignores their
weights: ``application/json;q=0`` (JSON refused) was answered with JSON, and a partner that
preferred JSON to JSON-LD (``application/ld+json;q=0.5, application/json``) got whichever the
view lists first. Here each of the view's media types takes the weight of the most specific
range that matches it (RFC 9110, 12.5.1), a weight of 0 refuses it (12.4.2), and the heaviest
wins; between equals, the one the header names most specifically, then the view's order.
Without weights the answer is DRF's (``tests/api/test_negotiation.py`` checks them side by
side). The header is read within DRF's bounds (``get_accept_list``: its length, its number of
ranges).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http.request import MediaType
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.utils.mediatypes import _MediaType


class PartnerContentNegotiation(DefaultContentNegotiation):
    """``DefaultContentNegotiation`` with weights, answering at once when the request leaves the choice to the view.

    Most partner requests send no ``Accept`` header, ``*/*``, or exactly the view's first
    media type, and ask for no format (no ``?format=``, no suffix). The answer to all three
    is the view's first renderer and its own media type; working it out means parsing and
    ranking the header, about a tenth of a 304 (profiled).
    """

    def select_renderer(
        self, request: Request, renderers: Sequence[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        format_ = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if renderers and not format_:
            first = renderers[0]
            accept = request.META.get("HTTP_ACCEPT")
            if accept is None or accept.strip() in ("*/*", first.media_type):
                return first, first.media_type
        if format_:
            renderers = self.filter_renderers(renderers, format_)  # Http404 for a format the view has not
        # Each range with its weight, read as Django reads it (``MediaType.quality``: a number from 0 to 1, else 1).
        ranges = [
            (media_range, MediaType(media_range.orig).quality) for media_range in self._get_parsed_accept_list(request)
        ]
        best: tuple[tuple[float, int], BaseRenderer, _MediaType] | None = None
        for renderer in renderers:
            media_type = _MediaType(renderer.media_type)
            matching = [(media_range, weight) for media_range, weight in ranges if media_type.match(media_range)]
            if not matching:
                continue
            most_specific = max(media_range.precedence for media_range, _ in matching)
            chosen, weight = max(
                ((media_range, weight) for media_range, weight in matching if media_range.precedence == most_specific),
                key=lambda pair: pair[1],
            )
            # Between equal weights, a type the header names beats one a wider range lets in (as DRF ranks them).
            rank = (weight, most_specific)
            if weight > 0 and (best is None or rank > best[0]):
                best = (rank, renderer, chosen)
        if best is None:
            raise NotAcceptable(available_renderers=renderers)
        _, renderer, media_range = best
        if _MediaType(renderer.media_type).precedence > media_range.precedence:
            # A range wider than the renderer's type (``*/*``): the renderer's type, with the range's parameters.
            return renderer, ";".join((renderer.media_type, *(f"{k}={v}" for k, v in media_range.params.items())))
        return renderer, media_range.orig
