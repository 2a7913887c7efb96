"""OpenAPI: every operation documents the errors the API really answers with."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` says what is wrong; for a bad query parameter the parameter's name is the key.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERRORS = {
    "400": "Malformed request: the message names the parameter or field.",
    "401": "No API key, or an unknown, revoked or expired one.",
    "403": "The key may not use this endpoint.",
    "404": "Nothing published here.",
    "406": "The Accept header asks for a format this endpoint does not serve.",
    "429": "Too many requests for this key; try again after the seconds in `Retry-After`.",
}


# Django's path converters as JSON Schema: a value they do not match never reaches a view.
PATH_CONVERTERS: dict[str, dict[str, Any]] = {
    "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    "int": {"type": "integer", "minimum": 0},
}
_PATH_VARIABLE = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


class PartnerAutoSchema(AutoSchema):
    def get_operation(self, path: str, path_regex: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, *args, **kwargs)
        converters = {match["name"]: match["converter"] for match in _PATH_VARIABLE.finditer(path_regex)}
        filterset = getattr(self.view, "filterset_class", None)
        for parameter in (operation or {}).get("parameters", []):
            if parameter["in"] == "path" and converters.get(parameter["name"]) in PATH_CONVERTERS:
                parameter["schema"] = {**parameter["schema"], **PATH_CONVERTERS[converters[parameter["name"]]]}
            if parameter["in"] == "query" and filterset is not None and parameter["name"] in filterset.base_filters:
                parameter["allowEmptyValue"] = True  # django-filter ignores a filter sent empty
        return operation

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if self.method in {"GET", "HEAD"}:
            responses.setdefault("304", {"description": "Not modified (conditional request); no body."})
        extra = dict(ERRORS)
        if getattr(self.view, "may_be_gone", False):
            extra["410"] = "The article was withdrawn and is no longer published."
        for code, description in extra.items():
            responses.setdefault(
                code, {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
            )
        return responses
