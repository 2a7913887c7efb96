"""DRF's content negotiation, with its commonest question answered without parsing the ``Accept`` header."""

from __future__ import annotations

from collections.abc import Sequence

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class PartnerContentNegotiation(DefaultContentNegotiation):
    """``DefaultContentNegotiation``, answering at once when the request leaves the choice to the view.

    Most partner requests send no ``Accept`` header, ``*/*``, or exactly the view's first
    media type, and ask for no format (no ``?format=``, no suffix). DRF's answer to all
    three is the view's first renderer and its own media type; working it out means parsing
    and ranking the header, about a tenth of a 304 (profiled). Anything else, DRF decides
    as before: the answers agree (``tests/api/test_negotiation.py`` checks them side by side).
    """

    def select_renderer(
        self, request: Request, renderers: Sequence[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        if renderers and not format_suffix and self.settings.URL_FORMAT_OVERRIDE not in request.query_params:
            first = renderers[0]
            accept = request.META.get("HTTP_ACCEPT")
            if accept is None or accept.strip() in ("*/*", first.media_type):
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
