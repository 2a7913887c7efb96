"""What the bench's miss servers forget of the app's per-process memos before every request.

With a cache that never hits (``DummyCache``, ``bench.settings_nocache``) the app still keeps its own
per-process memos (``articles.memo.BoundedMemo``), and two of them hold whole responses: rendered pages
by ETag (``articles.views._pages``) and finished early answers (``contentsite.early._answers``). A server
that keeps them answers every request after the first from the copy, so its "miss" only works out the
live identity: 13.3 ms of CPU a request in-process against 27.8 ms for the page rendered (the demo article,
profiled). So the miss servers forget them before each request (``ForgetPageMemosMiddleware``): the miss
server's rows measure the article's stored page read (``bench.settings_nocache``), the render path's a page
rendered again from what is live (``bench.settings_render``, stored pages off).

What it keeps are memos of parts, each named by what it is: a submitted revision's rendered content parts
(``articles.presentation._memo``) and Markdown's HTML by text (``articles.rendering._rendered``), which
spare re-rendering unchanged content (issue 9 asks for exactly that), and triage's compiled pathways and
evaluations, and the partner API's decided request shapes (its headers, never a body). The API detail
keeps its body in the shared cache only (``PartnerView.cached_body``), which never hits here.

The cold reference (``bench.settings_cold``, ``ForgetEveryMemoMiddleware``) forgets all of those too: the
page of a process that has rendered nothing yet, 33 ms in-process. Both run first in ``MIDDLEWARE``,
before anything reads a memo: the early answer, and the partner API's own middleware
(``contentsite.early.PartnerAPIHandler``), which a request reaches only through the list above it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from articles import rendering, views
from articles.memo import BoundedMemo, forget_all
from contentsite import early

# The memos that hold a whole response (a page's HTML, a finished answer): forgotten by the miss server.
PAGE_MEMOS: tuple[BoundedMemo, ...] = (views._pages, early._answers)


def forget_page_memos() -> None:
    """Forget every response this process kept whole; keep the memos of content parts."""
    for memo in PAGE_MEMOS:
        memo.clear()


def forget_every_memo() -> None:
    """Forget everything the process memoised of content: every ``BoundedMemo`` and Markdown's rendered text."""
    forget_all()
    rendering._rendered.cache_clear()


class ForgetPageMemosMiddleware:
    """Before each request: ``forget_page_memos`` (the miss server, ``bench.settings_nocache``)."""

    forget: Callable[[], None] = staticmethod(forget_page_memos)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        self.forget()
        return self.get_response(request)


class ForgetEveryMemoMiddleware(ForgetPageMemosMiddleware):
    """Before each request: ``forget_every_memo`` (the cold reference server, ``bench.settings_cold``)."""

    forget = staticmethod(forget_every_memo)
