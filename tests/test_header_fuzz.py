"""Hypothesis fuzz of the request headers a reader's browser or a partner's program may send: never a 500.

Every public page (the walk in ``tests.pages``) and the partner API's reads and evaluate, through the
app servers' own WSGI handler (``contentsite.handlers``, as gunicorn calls it; Django's test client
builds requests its own way), with hostile values in the headers the site or Django reads: content
type and charset, conditional requests, content negotiation, cookies, the key, the proxy's headers.
A request whose charset was ``base64`` once answered 500 on every address with a query.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from articles.models import Revision
from tests.pages import addresses, fuzz_every_page
from tests.wsgi import answer_of, environ_for

EXAMPLES = 60
# What a server may hand on: any byte but CR, LF and NUL (it refuses those), as WSGI gives them (latin-1).
header_text = st.binary(max_size=60).map(
    lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"").decode("latin-1")
)
# Values each header is most likely to be mishandled with, besides any text (``header_text``).
HOSTILE: dict[str, list[str]] = {
    "CONTENT_TYPE": [
        "text/plain; charset=base64",
        "application/json; charset=rot13",
        "application/json; charset=zlib",
        "text/plain; charset=undefined",
        "application/json; charset=punycode",
        "application/json; charset=utf-16",
        "application/json; charset=nonsense",
        'application/json; charset="utf-8',
        "multipart/form-data; boundary=",
        "application/x-www-form-urlencoded; charset=latin-1",
    ],
    "HTTP_ACCEPT": ["*/*;q=abc", "application/json;version=99", "application/json; q=0, text/html; q=1e400", ""],
    "HTTP_ACCEPT_LANGUAGE": ["*;q=x", "zz-" + "a" * 500, "en-GB;q=-1"],
    "HTTP_ACCEPT_ENCODING": ["gzip;q=x, br;q=1e400", "*;q=0"],
    "HTTP_IF_NONE_MATCH": ['W/"x", *', '"' + "a" * 4000 + '"', '"unterminated', "*, *"],
    "HTTP_IF_MATCH": ['W/"x", *', '"x"', "*"],
    "HTTP_IF_MODIFIED_SINCE": ["Mon, 32 Foo 2026 99:99:99 GMT", "-1", "99999999999999999999", "Thu, 01 Jan 1970"],
    "HTTP_IF_UNMODIFIED_SINCE": ["Mon, 32 Foo 2026 99:99:99 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"],
    "HTTP_COOKIE": ["sessionid=\xff\xfe; csrftoken=;;;; messages=x", "messages=" + "x" * 4000, "sessionid="],
    "HTTP_AUTHORIZATION": ["Api-Key \xff.\xff", "Api-Key " + "a" * 4000, "Api-Key .", "Bearer x", "Api-Key"],
    "HTTP_X_FORWARDED_PROTO": ["https, http", "\xff"],
    "HTTP_X_FORWARDED_FOR": ["256.256.256.256, ::1, x", ""],
    "HTTP_X_REQUEST_ID": ["\xff" * 300, "a" * 8000],
    "HTTP_RANGE": ["bytes=0-0,-1", "bytes=x"],
}
GENERIC = ["", "\xe9\u00ff" * 100, "x" * 8000]
HEADERS = [*HOSTILE, "HTTP_ORIGIN", "HTTP_REFERER", "HTTP_USER_AGENT"]


def values_for(header: str) -> st.SearchStrategy[str]:
    return st.sampled_from(HOSTILE.get(header, []) + GENERIC) | header_text


header_sets = st.lists(
    st.sampled_from(HEADERS).flatmap(lambda header: st.tuples(st.just(header), values_for(header))),
    min_size=1,
    max_size=5,
).map(dict)


@pytest.fixture
def targets(published_article: Revision, published_pathway: Revision, api_key: str) -> list[tuple[str, str, Any]]:
    """(method, address, body) of every public page and of the partner API's reads and evaluate."""
    slug, pathway = published_article.article.slug, published_pathway.article.slug
    answers = json.dumps({"answers": {"stroke": "no"}}).encode()
    api = [
        ("GET", "/api/v1/articles/?limit=2", None),
        ("GET", f"/api/v1/articles/{slug}/", None),
        ("GET", "/api/v1/medications/", None),
        ("GET", f"/api/v1/pathways/{pathway}/", None),
        ("POST", f"/api/v1/pathways/{pathway}/evaluate/", answers),
    ]
    pages = addresses(published_article, published_pathway).values()
    return [("GET", f"{path}?page=1", None) for path in pages] + api  # a query: read in the request's charset


@fuzz_every_page(EXAMPLES)
@given(headers=header_sets, keyed=st.booleans())
def test_no_header_makes_a_page_or_the_api_fail(wsgi_app, targets, api_key, headers: dict[str, str], keyed: bool):
    for method, path, body in targets:
        environ = environ_for(method, path, content_type="application/json" if body else "", body=body or b"")
        if keyed and path.startswith("/api/") and "HTTP_AUTHORIZATION" not in headers:
            environ["HTTP_AUTHORIZATION"] = f"Api-Key {api_key}"
        status, _, content = answer_of(wsgi_app, {**environ, **headers})
        assert status < 500, (method, path, headers, status, content[:300])
