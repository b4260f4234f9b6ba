"""The OpenAPI document tells the truth: every operation lists every status it can answer.

django-ninja documents the answers an operation returns itself; the refusals that come from the
layers around it (authentication, the three-layer authorization, input parsing, the error
handlers in ``errors``, the rate-limit middleware) are added here, in one place, to every
operation, each with the one error shape. A 429 carries ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.parser import Parser

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Machine-readable reason, e.g. not_found, slug_taken."},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Per-field problems: {field: [{code, message}]}.",
                    "additionalProperties": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}

# Every operation: what any request may meet on its way in (middleware, parsing, handlers).
COMMON = {
    "400": "Malformed request (unreadable body or parameters).",
    "404": "Not found, or not visible to this credential (another organisation's objects answer 404).",
    "409": "Conflicts with the current state (e.g. a slug or name already taken, a step not allowed now).",
    "413": "Request body too large.",
    "422": "Invalid input: see error.fields.",
    "429": "Too many requests: retry after the number of seconds in Retry-After.",
    "503": "The organisation's own encryption key is unavailable.",
}
# Operations behind a credential.
AUTHENTICATED = {
    "401": "No valid credential (session or API key).",
    "403": "Authenticated, but not allowed (permission, CSRF, or a person-only operation).",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _error_response(description: str, status: str) -> dict:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": REF}}}
    if status == "429":
        response["headers"] = RETRY_AFTER
    return response


def error_response(description: str, status: str = "") -> dict:
    """One documented error answer (for an operation's ``openapi_extra`` when only it answers it)."""
    return _error_response(description, status)


def document_errors(schema: dict) -> dict:
    """Add the error answers (and the ``Error`` component) to every operation of ``schema``; an
    answer the operation documents itself is left as it is."""
    schema.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            statuses = dict(COMMON)
            if operation.get("security"):
                statuses.update(AUTHENTICATED)
            # django-ninja keys its own answers by int; one key per status in the JSON document.
            responses = {str(status): answer for status, answer in operation.get("responses", {}).items()}
            for status, description in statuses.items():
                if status not in responses:
                    responses[status] = _error_response(description, status)
                elif status == "429":
                    responses[status].setdefault("headers", RETRY_AFTER)
            operation["responses"] = responses
    return schema


class ObjectBodyParser(Parser):
    """Every JSON body the API takes is an object: a string or a list is refused (422), not read as
    an empty change (django-ninja would otherwise find none of a PATCH's optional fields in it)."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValidationError([{"loc": ("body",), "msg": "The body must be a JSON object.", "type": "object_type"}])
        return data


class DocumentedApi(NinjaAPI):
    """A NinjaAPI whose OpenAPI document lists the error answers of every operation."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parser", ObjectBodyParser())
        super().__init__(*args, **kwargs)

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_errors(schema)
