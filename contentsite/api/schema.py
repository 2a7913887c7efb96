"""OpenAPI: every operation documents the errors, headers and conditional parameters the API really has.

- Errors: one shared ``Problem`` component (RFC 9457, ``application/problem+json``,
  ``contentsite.api.problems``) for every 4xx and 5xx.
- Headers: ``ETag`` and ``Last-Modified`` on every GET's 200 and 304 (``PartnerView``),
  ``RateLimit`` and ``RateLimit-Policy`` on every keyed response (``partners.throttling``),
  ``Retry-After`` on 409, 429 and 503, ``WWW-Authenticate`` on 401.
- Parameters: ``If-None-Match`` and ``If-Modified-Since`` on every GET.
- Patterns: ECMA-262, as OpenAPI requires (``ecma_pattern``).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from rest_framework import serializers

from .problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE


def ecma_pattern(validator: RegexValidator) -> str:
    """A server validator's regex as an ECMA-262 pattern, for the schema: ``\\Z`` (Python's end of string) as ``$``.

    The server keeps ``\\Z`` (``$`` in Python also matches before a final newline, so
    ``17767\\n`` would pass); in ECMA-262 ``$`` without the ``m`` flag is the end of the
    string, so both refuse it. ``tests/api/test_schema.py`` runs every served pattern
    in an ECMA-262 engine against the server's validators.
    """
    pattern = validator.regex.pattern
    if not (pattern.startswith("^") and pattern.endswith(r"\Z")) or r"\Z" in pattern[:-2]:
        raise ValueError(f"Expected one pattern anchored ^...\\Z: {pattern!r}")
    return pattern[:-2] + "$"


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        help_text="The query parameter or top-level body field at fault (empty for the body as a whole)."
    )
    pointer = serializers.CharField(
        required=False,
        help_text="Within a body field, a JSON Pointer (RFC 6901) to the part at fault, e.g. `/answers/stroke`.",
    )
    code = serializers.CharField(help_text="What is wrong, for programs, e.g. `invalid`, `invalid_rxcui`.")
    detail = serializers.CharField(help_text="What is wrong, for people.")


class ProblemSerializer(serializers.Serializer):
    """An error (RFC 9457 problem details), the one shape of every 4xx and 5xx."""

    type = serializers.CharField(help_text="`about:blank`: the status and `code` say what happened.")
    title = serializers.CharField(help_text="The HTTP status phrase, e.g. `Bad Request`.")
    status = serializers.IntegerField(min_value=400, max_value=599, help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong, for people.")
    instance = serializers.CharField(help_text="The path of the request that failed.")
    code = serializers.CharField(
        help_text=(
            "What went wrong, for programs; stable within v1: `invalid` (see `errors`), `bad_request`, `parse_error`, "
            "`request_too_large`, `not_authenticated`, `authentication_failed`, `permission_denied`, `not_found`, "
            "`gone`, `method_not_allowed`, `not_acceptable`, `precondition_failed`, `unsupported_media_type`, "
            "`throttled`, `conflict`, "
            "`unavailable`, `error`."
        )
    )
    errors = ProblemFieldErrorSerializer(
        many=True, required=False, help_text="With `code` `invalid`: each malformed parameter or field."
    )

    class Meta:
        ref_name = "Problem"


ERRORS = {
    "400": "Malformed request: `errors` names each parameter or field at fault.",
    "401": "No API key, or an unknown, revoked or expired one (see `WWW-Authenticate`).",
    "403": "The key may not use this endpoint.",
    "404": "Nothing published here.",
    "406": "The Accept header asks for a format this endpoint does not serve.",
    "409": "A lock wait timed out (`code` `conflict`; nothing was changed): try again after `Retry-After`.",
    "412": "`If-Match` or `If-Unmodified-Since` was sent and does not match the current version.",
    "429": (
        "Too many requests for this key, or too many failed authentications (unknown, revoked or expired keys) from "
        'this client address (the RateLimit fields then name the `"failed-authentication"` policy): try again after '
        "the seconds in `Retry-After`."
    ),
    "503": "Temporarily unavailable (`code` `unavailable`): try again after the seconds in `Retry-After`.",
}

# Operations with a request body (``contentsite.api.parsers``) also answer these.
BODY_ERRORS = {
    "413": "The request body is larger than the limit the message states.",
    "415": (
        "The request body is not JSON (send `Content-Type: application/json`), or is compressed (`code`"
        " `unsupported_content_encoding`: send it without `Content-Encoding`)."
    ),
}

_INTEGER_SECONDS = {"type": "string", "pattern": "^[0-9]+$"}
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The version of this response: send it back in `If-None-Match` to get a 304 if unchanged.",
        "schema": {"type": "string", "pattern": '^(W/)?"[^"]*"$'},
    },
    "Last-Modified": {
        "description": (
            "When the content last changed (HTTP date, whole seconds): send it back in `If-Modified-Since`. Sent only "
            "once the change is old enough that no later one can share its second (50 seconds here by default); "
            "until then `ETag` alone validates the response."
        ),
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": (
            "Your key's quota (draft-ietf-httpapi-ratelimit-headers-10, a structured-field list): "
            '`"default";q=600;w=60` is 600 requests per 60-second window.'
        ),
        "schema": {"type": "string", "pattern": '^"default";q=[0-9]+;w=[0-9]+$'},
    },
    "RateLimit": {
        "description": (
            "What is left of the quota (draft-ietf-httpapi-ratelimit-headers-10): "
            '`"default";r=42;t=18` is 42 requests left, the window resetting in 18 seconds.'
        ),
        "schema": {"type": "string", "pattern": '^"default";r=[0-9]+;t=[0-9]+$'},
    },
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": _INTEGER_SECONDS},
    "WWW-Authenticate": {
        "description": 'How to authenticate: `Api-Key realm="partner API"`.',
        "schema": {"type": "string"},
    },
}
RATE_LIMITED = ("RateLimit-Policy", "RateLimit")
# A 429's RateLimit fields name the policy that refused: the key's (``default``), or its client address's failed
# authentications (``failed-authentication``, ``partners.admission``).
THROTTLED_HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Policy": {
        "description": (
            'The quota that refused the request: your key\'s, `"default";q=600;w=60`, or the failed '
            'authentications a client address may make, `"failed-authentication";q=20;w=60` (20 per 60 seconds).'
        ),
        "schema": {"type": "string", "pattern": '^"(default|failed-authentication)";q=[0-9]+;w=[0-9]+$'},
    },
    "RateLimit": {
        "description": (
            'What is left of that quota: `"default";r=0;t=18` or `"failed-authentication";r=0;t=18`, the window '
            "resetting in 18 seconds."
        ),
        "schema": {"type": "string", "pattern": '^"(default|failed-authentication)";r=[0-9]+;t=[0-9]+$'},
    },
}

CONDITIONAL_PARAMETERS = [
    {
        "in": "header",
        "name": "If-None-Match",
        "required": False,
        "description": "The `ETag` of your copy: answered 304 (no body) if it is still current.",
        "schema": {"type": "string"},
    },
    {
        "in": "header",
        "name": "If-Modified-Since",
        "required": False,
        "description": "The `Last-Modified` of your copy: answered 304 if nothing changed since (ignored with "
        "`If-None-Match`).",
        "schema": {"type": "string"},
    },
]


# Django's path converters as JSON Schema: a value they do not match never reaches a view.
PATH_CONVERTERS: dict[str, dict[str, Any]] = {
    "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    "int": {"type": "integer", "minimum": 0},
}
_PATH_VARIABLE = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


def _headers(*names: str, required: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    return {name: {**HEADERS[name], "required": name in required} for name in names}


class PartnerAutoSchema(AutoSchema):
    def get_operation(self, path: str, path_regex: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, *args, **kwargs)
        if operation is None:
            return None
        converters = {match["name"]: match["converter"] for match in _PATH_VARIABLE.finditer(path_regex)}
        filterset = getattr(self.view, "filterset_class", None)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and converters.get(parameter["name"]) in PATH_CONVERTERS:
                parameter["schema"] = {**parameter["schema"], **PATH_CONVERTERS[converters[parameter["name"]]]}
            if parameter["in"] == "query" and filterset is not None and parameter["name"] in filterset.base_filters:
                parameter["allowEmptyValue"] = True  # django-filter ignores a filter sent empty
        if self.method == "GET":
            operation.setdefault("parameters", []).extend(dict(parameter) for parameter in CONDITIONAL_PARAMETERS)
        self._declare_headers(operation["responses"])
        return operation

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        """In a response, every field is ``required`` unless its serializer declares it ``required=False``.

        drf-spectacular leaves out of ``required`` each model field with ``blank=True`` or a default
        (optional *input*), though a response always carries it (``""`` when blank), so a generated
        client typed it ``str | Unset``. The fields a response may really leave out are declared
        ``required=False`` on the serializer by hand (``Problem.errors``, ``ProblemFieldError.pointer``);
        a ModelSerializer passes ``required=False`` to every field built from a ``blank=True`` model field.
        """
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "response":
            return schema
        serializer = force_instance(serializer)
        declared = getattr(serializer, "_declared_fields", {})  # by hand, not built from a model field
        optional = {name for name, field in declared.items() if field._kwargs.get("required") is False}
        required = [name for name in schema.get("properties", {}) if name not in optional]
        if required:
            schema["required"] = sorted(required)
        return schema

    def _declare_headers(self, responses: dict[str, Any]) -> None:
        """Which headers each response carries, as ``PartnerView.finalize_response`` and DRF send them."""
        read = self.method == "GET"
        for code, response in responses.items():
            if code.startswith("2"):
                names = ("ETag", "Last-Modified", *RATE_LIMITED) if read else RATE_LIMITED
                response["headers"] = _headers(*names, required=("ETag", *RATE_LIMITED) if read else RATE_LIMITED)
            elif code == "304":
                response["headers"] = _headers("ETag", "Last-Modified", *RATE_LIMITED, required=("ETag", *RATE_LIMITED))
            elif code == "429":
                response["headers"] = {
                    **_headers("Retry-After", required=("Retry-After",)),
                    **{name: {**THROTTLED_HEADERS[name], "required": True} for name in RATE_LIMITED},
                }
            elif code in ("409", "503"):
                response["headers"] = _headers("Retry-After", required=("Retry-After",))
            elif code == "401":
                response["headers"] = _headers("WWW-Authenticate")
            elif code.startswith("4"):
                # Sent once the key is known (not for a 406, answered before authentication).
                response["headers"] = _headers(*RATE_LIMITED)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        # A body no serializer describes (JSON-LD): the view names its component and gives its schema.
        named = getattr(self.view, "response_component", None)
        if named is not None:
            name, schema = named
            self.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
            )
        responses = super()._get_response_bodies(direction)
        if self.method in {"GET", "HEAD"}:
            responses.setdefault("304", {"description": "Not modified (conditional request); no body."})
        extra = dict(ERRORS)
        if self.method != "GET":
            del extra["412"]  # conditional requests are GETs
        if self.method == "POST":
            extra.update(BODY_ERRORS)
        if getattr(self.view, "may_be_gone", False):
            extra["410"] = "The article was withdrawn and is no longer published."
        problem = self.resolve_serializer(ProblemSerializer, "response").ref
        for code, description in extra.items():
            responses.setdefault(
                code, {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": problem}}}
            )
        return responses


def _blank_or(schema: Any) -> bool:
    """``oneOf: [<a string format>, <the empty string>]``, as drf-spectacular writes a ``blank=True`` field."""
    options = schema.get("oneOf") if isinstance(schema, dict) else None
    return (
        isinstance(options, list)
        and len(options) == 2
        and options[1] in ({"type": "string", "maxLength": 0}, {"$ref": "#/components/schemas/BlankEnum"})
    )


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Last touches drf-spectacular has no setting for (a ``POSTPROCESSING_HOOKS`` entry, after its enum hook).

    - "A value, or empty": ``anyOf`` rather than ``oneOf``, which a strict validator
      rejects when ``""`` also matches the first (a ``format: uri`` some tools accept blank);
      and the value's branch has ``minLength: 1``, so ``""`` fits the empty branch alone even
      where ``format`` is not checked.
    - Enums whose values are opaque (OIDs) get readable member names (``x-enum-varnames``,
      which openapi-python-client and openapi-generator use).
    """

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if _blank_or(node):
                node["anyOf"] = node.pop("oneOf")
                value = node["anyOf"][0]
                if value.get("type") == "string" and "pattern" not in value:
                    value.setdefault("minLength", 1)  # "" is the empty branch only, with or without ``format``
            if node.get("enum") and "x-enum-varnames" not in node and set(node["enum"]) <= set(ENUM_VARNAMES):
                node["x-enum-varnames"] = [ENUM_VARNAMES[value] for value in node["enum"]]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result)
    return result


# Readable names for enum values a generator cannot name (it writes ``VALUE_0``): the code systems' OIDs
# (they start with a digit), and the empty string of ``BlankEnum`` (a choice left blank, e.g. ``frequency_band``).
ENUM_VARNAMES: dict[str, str] = {
    "2.16.840.1.113883.6.88": "RXNORM",
    "2.16.840.1.113883.6.73": "WHO_ATC",
    "2.16.840.1.113883.6.96": "SNOMED_CT",
    "": "BLANK",
}
