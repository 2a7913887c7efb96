"""Cursor pagination for partners that sync: stable under inserts, 400 for a bad cursor."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib import parse

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination

from contentsite.numbers import whole_number


class PartnerCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = "slug"

    def decode_cursor(self, request: Any) -> Any:
        try:
            cursor = super().decode_cursor(request)
            # Only a cursor as issued: DRF's decoding drops what is not base64 and reads past unknown or repeated
            # keys, so "!!!!" or "x=1" would be the first page. Nor one with a NUL (no slug has one, and PostgreSQL
            # cannot compare text containing one).
            if cursor is not None and (
                "\x00" in (cursor.position or "")
                or _issued(cursor) != request.query_params.get(self.cursor_query_param)
            ):
                raise NotFound
        except NotFound:
            raise ValidationError({"cursor": ["Invalid cursor: use the `next` or `previous` link as given."]}) from None
        return cursor

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError({"limit": [f"A whole number from 1 to {self.max_page_size}."]})
        return size

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """What every page sends (OpenAPI 3.1): ``next`` and ``previous`` always present, null at either end."""
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page: request it as given; null on the last page."},
                "previous": {**link, "description": "The previous page; null on the first."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


def _issued(cursor: Cursor) -> str:
    """``cursor`` as DRF's ``encode_cursor`` writes it into a ``next`` or ``previous`` link (its own code, given
    only what it reads: an address, here none, and the parameter's name)."""
    link = CursorPagination.encode_cursor(SimpleNamespace(base_url="", cursor_query_param="cursor"), cursor)
    return parse.parse_qs(parse.urlsplit(link).query, keep_blank_values=True)["cursor"][0]
