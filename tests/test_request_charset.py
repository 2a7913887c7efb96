"""A request whose ``Content-Type`` names a charset that is no text encoding is read in the default charset.

Django takes as a request's charset any codec Python knows, and some of those turn bytes into bytes
(``base64``, ``hex``, ``zlib``, ``rot13``...): reading the query string or the body with one raised
``LookupError``, a 500 for any address with a query and any body (``contentsite.handlers``). These
requests go through the app servers' own WSGI handler, as gunicorn calls it: Django's test client
builds its requests with Django's class.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from contentsite.handlers import ASGIHandler, is_text_encoding
from tests.pages import page_text
from tests.wsgi import call

pytestmark = pytest.mark.django_db

EVALUATE = "/api/v1/pathways/numbness-tingling-weakness-amlodipine/evaluate/"
NO_TEXT = ["base64", "hex", "zlib", "bz2", "rot13", "quopri", "uu"]
# Python's own codecs that decode bytes to text but name no character set a request is sent in; some fail with
# an error Django does not expect (``UnicodeError``: IDNA on an empty label, ``undefined`` on anything).
NOT_CHARSETS = ["idna", "punycode", "undefined", "unicode_escape", "raw-unicode-escape"]


@pytest.mark.parametrize("charset", ["utf-8", "latin-1", "UTF-16", "cp1252"])
def test_text_encodings_are_text_encodings(charset):
    assert is_text_encoding(charset)


@pytest.mark.parametrize("charset", [*NO_TEXT, *NOT_CHARSETS, "no-such-charset", "", "utf-8\x00"])
def test_codecs_that_give_no_text_and_unknown_names_are_not(charset):
    assert not is_text_encoding(charset)


@pytest.mark.parametrize("charset", [*NO_TEXT, *NOT_CHARSETS])
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?page=1",
        "/search/?q=pins..needles",  # an empty label to IDNA
        "/articles/amlodipine-peripheral-neuropathy/",
        "/search/?q=amlodipine",
        "/api/v1/articles/?limit=5",
        "/api/v1/articles/amlodipine-peripheral-neuropathy/",
    ],
)
def test_a_get_is_answered_as_without_that_charset(wsgi_app, api_key, published_article, url, charset):
    auth = {"AUTHORIZATION": f"Api-Key {api_key}"} if url.startswith("/api/") else {}
    plain = call(wsgi_app, "GET", url, **auth)
    status, _, content = call(wsgi_app, "GET", url, content_type=f"text/plain; charset={charset}", **auth)
    assert status == plain[0] == 200, content[:300]


@pytest.mark.parametrize("charset", [*NO_TEXT, *NOT_CHARSETS])
def test_a_json_body_is_read_in_the_default_charset(wsgi_app, api_key, published_pathway, charset):
    body = b'{"answers": {"stroke": "no"}}'
    auth = {"AUTHORIZATION": f"Api-Key {api_key}"}
    plain = call(wsgi_app, "POST", EVALUATE, content_type="application/json", body=body, **auth)
    status, _, content = call(
        wsgi_app, "POST", EVALUATE, content_type=f"application/json; charset={charset}", body=body, **auth
    )
    assert status == plain[0] == 200, content[:300]
    assert json.loads(content) == json.loads(plain[2])


def test_a_charset_that_is_text_still_applies(wsgi_app, api_key, published_pathway):
    """UTF-8 bytes declared UTF-16 are a parse error (400), not read as UTF-8."""
    status, _, content = call(
        wsgi_app,
        "POST",
        EVALUATE,
        content_type="application/json; charset=utf-16",
        body=b'{"answers": {"stroke": "no"}}',
        AUTHORIZATION=f"Api-Key {api_key}",
    )
    assert status == 400, content[:300]
    assert json.loads(content)["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize("charset", ["base64", "rot13"])
def test_an_asgi_request_is_read_the_same_way(charset):
    """``contentsite.asgi``'s requests: the same rule, on the same property."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"page=1",
        "headers": [(b"host", b"testserver"), (b"content-type", f"text/plain; charset={charset}".encode())],
    }
    request = ASGIHandler.request_class(scope, io.BytesIO(b""))
    assert request.encoding is None
    assert request.GET["page"] == "1"


# --- A form's body in a charset other than UTF-8 ------------------------------------------------------------------

TRIAGE = "/triage/numbness-tingling-weakness-amlodipine/"


def reader_form(wsgi_app: Any) -> tuple[str, str]:
    """The CSRF cookie (``name=value``) and the form's token a reader's browser has after opening the first question."""
    status, headers, content = call(wsgi_app, "GET", TRIAGE)
    assert status == 200
    cookie = headers["Set-Cookie"].split(";")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', content.decode())
    assert token is not None
    return cookie, token.group(1)


def answer_stroke_yes(wsgi_app: Any, url: str, charset: str) -> tuple[int, bytes]:
    """A reader's "yes" to the signs of a stroke posted to ``url`` as a form declared in ``charset``: (status, body)."""
    cookie, token = reader_form(wsgi_app)
    body = f"csrfmiddlewaretoken={token}&asked=stroke&stroke=yes".encode()
    content_type = f"application/x-www-form-urlencoded; charset={charset}"
    status, _, content = call(wsgi_app, "POST", url, content_type=content_type, body=body, COOKIE=cookie)
    return status, content


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "us-ascii"])
# A symptom check's question, an address with no page (its 404 page read the body first), the staff log-in.
@pytest.mark.parametrize("url", [TRIAGE, "/feedback/", "/admin/login/"])
def test_a_form_declared_in_another_charset_is_a_400_not_a_500(wsgi_app, published_pathway, url, charset):
    """Django refuses a form body (``application/x-www-form-urlencoded``) declared in any charset but UTF-8 with
    ``BadRequest``, raised as the CSRF check reads the token; its own 400 and 500 pages check the token again, so
    read the body again, and the request ended in a bare 500 from the server (found from outside: a reader's answer
    sent with ``charset=latin-1`` to a symptom check). The body is refused once, as a 400."""
    status, content = answer_stroke_yes(wsgi_app, url, charset)
    assert status == 400, content[:300]


@pytest.mark.parametrize("charset", ["utf8", "UTF8", "utf_8", "U8"])
def test_a_form_declared_in_utf8_under_another_name_is_read(wsgi_app, published_pathway, charset):
    """``utf8`` is UTF-8: the reader who has just said yes to the signs of a stroke is told to call now."""
    status, content = answer_stroke_yes(wsgi_app, TRIAGE, charset)
    assert status == 200, content[:300]
    assert "Call the emergency number now" in content.decode()


def test_a_readers_form_that_could_not_be_read_is_answered_with_the_numbers_to_call(wsgi_app, published_pathway):
    """The 400 is the site's page, not Django's bare "Bad Request (400)": it says what happened, and, as a form
    that could not be sent (``403_csrf.html``), gives the numbers to call, since the answer lost may have been a
    warning sign."""
    cookie, token = reader_form(wsgi_app)
    status, headers, content = call(
        wsgi_app,
        "POST",
        TRIAGE,
        content_type="application/x-www-form-urlencoded; charset=latin-1",
        body=f"csrfmiddlewaretoken={token}&asked=stroke&stroke=yes".encode(),
        COOKIE=cookie,
    )
    assert status == 400
    text = page_text(content.decode())
    assert "Your form could not be read" in text
    assert "In an emergency, call 999" in text
    assert 'href="tel:999"' in content.decode()
    assert "no-store" in headers["Cache-Control"]
