"""Cursor pagination for partners that sync: stable under inserts, 400 for a bad cursor."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from contentsite.numbers import whole_number


class PartnerCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = "slug"

    def decode_cursor(self, request: Any) -> Any:
        try:
            cursor = super().decode_cursor(request)
            # Never issued (slugs have no NUL), and PostgreSQL cannot compare text containing one.
            if cursor is not None and "\x00" in (cursor.position or ""):
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
