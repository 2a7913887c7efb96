"""Conditional requests as RFC 9110 evaluates them (13.1, 13.2.2): Django's ``get_conditional_response``, and where
Django reads a malformed field more leniently than the RFC, the RFC.

- ``If-Match`` that is neither ``*`` nor a list of entity tags (``garbage``, an ETag without its quotes): "Otherwise,
  the condition is false" (13.1.1), a 412. Django ignored it and answered 200.
- ``If-Modified-Since`` beside an ``If-None-Match`` of any value: "A recipient MUST ignore If-Modified-Since if the
  request contains an If-None-Match header field" (13.1.3). Django evaluated it when the If-None-Match named no entity
  tag it could read, and answered 304 where the If-None-Match alone is true (13.1.2: "Otherwise, the condition is
  true"), so the page. Varnish, which ignores it too, answered the page.

Every conditional answer of the site (the pages, their early answers, the partner API) is this one rule.
"""

from __future__ import annotations

import copy

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, parse_etags
from django.utils.log import log_response


def conditional_response(
    request: HttpRequest,
    *,
    etag: str | None = None,
    last_modified: int | None = None,
    response: HttpResponse | None = None,
) -> HttpResponse | None:
    """What ``request``'s conditional headers ask of the version named by ``etag`` and ``last_modified``: a 304, a
    412, or ``response`` (None when not given): ``get_conditional_response``'s contract."""
    if response is not None and not 200 <= response.status_code < 300:
        return response
    meta = request.META
    if "HTTP_IF_MATCH" in meta and not parse_etags(meta["HTTP_IF_MATCH"]):
        failed = HttpResponse(status=412)
        log_response("Precondition Failed: %s", request.path, response=failed, request=request)
        return failed
    if "HTTP_IF_NONE_MATCH" in meta and "HTTP_IF_MODIFIED_SINCE" in meta:
        request = copy.copy(request)
        request.META = {name: value for name, value in meta.items() if name != "HTTP_IF_MODIFIED_SINCE"}
    return get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)
