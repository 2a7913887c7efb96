"""OpenAPI: every operation documents the errors the API really answers with."""

from __future__ import annotations

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


class PartnerAutoSchema(AutoSchema):
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
