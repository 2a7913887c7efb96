"""Request bodies: bounded in size and nesting, refused with a clear JSON error, never a 500.

Issue 8, finding 6: an evaluate body nested 1,000 levels deep ended in a RecursionError.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from articles.limits import MAX_DOCUMENT_BYTES
from contentsite.api.parsers import BoundedJSONParser
from tests.api.problems import problem, problem_fields
from tests.wsgi import answer_of, call, environ_for

pytestmark = pytest.mark.django_db

EVALUATE = "/api/v1/pathways/numbness-tingling-weakness-amlodipine/evaluate/"


def post(client, api_key: str, body: bytes):
    return client.post(EVALUATE, body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {api_key}")


def nested(levels: int) -> bytes:
    """An evaluate body whose answer is a list nested ``levels`` deep (the body itself adds two)."""
    return b'{"answers": {"stroke": ' + b"[" * levels + b"]" * levels + b"}}"


def test_a_body_nested_a_thousand_levels_deep_is_a_400_naming_the_problem(client, api_key, published_pathway):
    response = post(client, api_key, nested(1000))
    assert response.status_code == 400
    assert problem(response)["detail"] == (
        "JSON parse error - nested more than 32 levels deep (at line 1, column 54); the limit is 32 levels"
    )
    assert problem(response)["code"] == "parse_error"


def test_a_body_at_the_nesting_limit_reaches_the_view(client, api_key, published_pathway):
    response = post(client, api_key, nested(30))
    assert response.status_code == 400
    assert "answers" in problem_fields(response)  # the view's own validation, not a parse error


def test_a_body_over_the_size_limit_is_a_413(client, api_key, published_pathway):
    body = b'{"answers": {"stroke": "' + b"y" * MAX_DOCUMENT_BYTES + b'"}}'
    response = post(client, api_key, body)
    assert response.status_code == 413
    assert problem(response)["detail"] == f"The request body is larger than {MAX_DOCUMENT_BYTES:,} bytes."
    assert problem(response)["code"] == "request_too_large"


def test_a_body_over_djangos_own_limit_is_a_413_too(client, api_key, published_pathway, settings):
    """Django refuses a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` when DRF reads it, before the bounded parser's
    own check: still the documented 413 problem, not Django's HTML 400 (``strict.py`` judges the response)."""
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE > MAX_DOCUMENT_BYTES
    response = post(client, api_key, b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    assert (response.status_code, problem(response)["code"]) == (413, "request_too_large")
    assert problem(response)["detail"] == f"The request body is larger than {MAX_DOCUMENT_BYTES:,} bytes."
    assert "RateLimit" in response  # answered by the API view, for the key


def test_malformed_json_is_still_a_400(client, api_key, published_pathway):
    response = post(client, api_key, b'{"answers": ')
    assert response.status_code == 400
    assert problem(response)["detail"].startswith("JSON parse error - ")


def api_views(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, type]]:
    views = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            views.extend(api_views(pattern, prefix + str(pattern.pattern)))
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            views.append((prefix + str(pattern.pattern), pattern.callback.cls))
    return views


def test_every_api_view_reads_bodies_through_the_bounded_parser():
    views = api_views()
    assert any("evaluate" in route for route, _ in views)
    for route, view in views:
        parsers = view().get_parsers()
        assert parsers, route
        assert all(isinstance(parser, BoundedJSONParser) for parser in parsers), route


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the bounded parser decodes, as it is handed to ``articles.json_input.loads``."""
    from articles import json_input

    parsed: list[str] = []
    original = json_input.loads

    def loads(text: str, **options):
        parsed.append(text)
        return original(text, **options)

    monkeypatch.setattr(json_input, "loads", loads)
    return parsed


def test_an_evaluation_parses_its_body_once(client, api_key, published_pathway, monkeypatch):
    """The body evaluated ahead of the admission (``contentsite.api.parsers.peek_json``) is the one the view reads:
    parsed once, not again by DRF."""
    body = b'{"answers": {"stroke": "no"}}'
    parsed = count_parses(monkeypatch)
    response = post(client, api_key, body)
    assert response.status_code == 200, response.content[:300]
    assert parsed == [body.decode()]


def test_a_body_in_another_charset_is_decoded_by_its_charset_once_admitted(client, api_key, published_pathway):
    """A body sent as ``charset=latin-1`` is not the text peeked ahead (which reads UTF-8): the view's own parse
    decodes it as sent, so its answer is named as the partner wrote it."""
    response = client.post(
        EVALUATE,
        '{"answers": {"stroke": "café"}}',  # the test client encodes it in the charset named
        content_type="application/json; charset=latin-1",
        HTTP_AUTHORIZATION=f"Api-Key {api_key}",
    )
    assert response.status_code == 400
    assert any("'café' is not an answer" in error["detail"] for error in problem(response)["errors"])


# Found from outside (stop 27's hostile-input probe): a member named twice in one object was read as its last
# value, silently. A partner's program that builds a body by concatenation, or two layers that each add an
# answer, could send the stroke question "yes" and then "no", and be told the outcome of "no".
@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"answers": {"stroke": "yes", "stroke": "no"}}', "stroke"),
        (b'{"answers": {"stroke": "yes"}, "answers": {"stroke": "no"}}', "answers"),
    ],
)
def test_a_member_named_twice_is_a_400_naming_it_and_counts_nothing(client, api_key, published_pathway, body, named):
    from tests.triage.test_outcome_ahead import flushed_counts

    assert post(client, api_key, b'{"answers": {"stroke": "yes"}}').status_code == 200  # the guess is made from here
    before = flushed_counts()
    response = post(client, api_key, body)
    assert response.status_code == 400, response.content[:300]
    assert problem(response)["code"] == "parse_error"
    assert problem(response)["detail"] == f"JSON parse error - the field {named!r} appears twice in one object"
    assert flushed_counts() == before


def test_the_parser_refuses_a_member_named_twice_at_any_depth():
    from io import BytesIO

    from rest_framework.exceptions import ParseError

    with pytest.raises(ParseError, match="'b' appears twice"):
        BoundedJSONParser().parse(BytesIO(b'{"a": [{"b": 1, "c": {}, "b": 2}]}'))
    assert BoundedJSONParser().parse(BytesIO(b'{"a": [{"b": 1}, {"b": 2}]}')) == {"a": [{"b": 1}, {"b": 2}]}


# Found from outside (stop 34's patient probe): a body sent with ``Content-Encoding: gzip`` was read as if it were
# the JSON itself and refused as malformed JSON (a 400 saying "JSON parse error"), which sends a partner looking for
# a fault in JSON that has none. The API accepts bodies as they are (``identity``); anything else is a 415 that
# says so, and counts nothing.
@pytest.mark.parametrize("coding", ["gzip", "GZIP", "deflate", "br", "gzip, identity", "x-made-up"])
def test_a_compressed_body_is_a_415_saying_it_is_not_accepted_and_counts_nothing(
    client, api_key, published_pathway, coding
):
    import gzip

    from tests.triage.test_outcome_ahead import flushed_counts

    assert post(client, api_key, b'{"answers": {"stroke": "yes"}}').status_code == 200  # the guess is made from here
    before = flushed_counts()
    response = client.post(
        EVALUATE,
        gzip.compress(b'{"answers": {"stroke": "yes"}}'),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {api_key}",
        HTTP_CONTENT_ENCODING=coding,
    )
    assert response.status_code == 415, response.content[:300]
    assert problem(response)["code"] == "unsupported_content_encoding"
    assert problem(response)["detail"] == (
        f"Content-Encoding {coding!r} is not accepted: send the body uncompressed (no Content-Encoding, or identity)."
    )
    assert flushed_counts() == before


@pytest.mark.parametrize("coding", ["identity", "Identity", " identity "])
def test_a_body_sent_as_it_is_may_say_so(client, api_key, published_pathway, coding):
    response = client.post(
        EVALUATE,
        b'{"answers": {"stroke": "yes"}}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {api_key}",
        HTTP_CONTENT_ENCODING=coding,
    )
    assert response.status_code == 200, response.content[:300]


def chunked_environ(body: bytes, api_key: str, **environ: Any) -> dict[str, Any]:
    """A POST to ``EVALUATE`` as gunicorn hands the app one sent with ``Transfer-Encoding: chunked``: no
    ``CONTENT_LENGTH``, the body de-chunked in ``wsgi.input``, which says so (``wsgi.input_terminated``)."""
    sent = environ_for("POST", EVALUATE, content_type="application/json", body=body)
    del sent["CONTENT_LENGTH"]
    return {
        **sent,
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Api-Key {api_key}",
        "wsgi.input_terminated": True,
        **environ,
    }


def test_a_chunked_body_is_evaluated_as_one_with_its_length(wsgi_app, api_key, published_pathway):
    """Found as a partner posting through a balancer that forwards chunked bodies (and straight to gunicorn):
    Django reads a body by its Content-Length, which a chunked request has none of, so the answers were read as
    nothing: a 400 saying `answers` "This field is required" of a body that had them."""
    body = b'{"answers": {"stroke": "no"}}'
    auth = {"AUTHORIZATION": f"Api-Key {api_key}"}
    plain = call(wsgi_app, "POST", EVALUATE, content_type="application/json", body=body, **auth)
    status, _, content = answer_of(wsgi_app, chunked_environ(body, api_key))
    assert status == plain[0] == 200, content[:300]
    assert json.loads(content) == json.loads(plain[2])


def test_a_chunked_body_over_djangos_own_limit_is_a_413_read_no_further(wsgi_app, api_key, published_pathway, settings):
    stream = io.BytesIO(b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 100))
    status, _, content = answer_of(wsgi_app, chunked_environ(b"", api_key, **{"wsgi.input": stream}))
    assert (status, json.loads(content)["code"]) == (413, "request_too_large"), content[:300]
    assert stream.tell() <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1


def test_a_body_whose_end_the_server_does_not_mark_is_still_read_by_its_length_alone(
    wsgi_app, api_key, published_pathway
):
    """Without ``wsgi.input_terminated`` (a server that does not de-chunk), nothing is read past the length given:
    none, so no body, as before."""
    status, _, content = answer_of(
        wsgi_app, chunked_environ(b'{"answers": {"stroke": "no"}}', api_key, **{"wsgi.input_terminated": False})
    )
    assert status == 400, content[:300]
    assert "answers" in json.loads(content)["errors"][0]["field"]


class _NeverSent(io.RawIOBase):
    """A body a client said it would send chunked and never did: reading it would wait for ever."""

    def read(self, *args: Any) -> bytes:
        raise AssertionError("a body that is never read was read")


def test_a_get_saying_it_sends_a_chunked_body_is_answered_without_reading_it(wsgi_app, api_key, published_article):
    environ = chunked_environ(
        b"", api_key, REQUEST_METHOD="GET", PATH_INFO="/api/v1/articles/", **{"wsgi.input": _NeverSent()}
    )
    status, _, content = answer_of(wsgi_app, environ)
    assert status == 200, content[:300]
