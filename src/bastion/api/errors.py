"""Every API error has one shape: ``{"error": {"code", "message", "fields"}}``; never a traceback."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from bastion.crypto.artifacts import ArtifactUnreadable
from bastion.records.csv_import import CsvImportError
from bastion.records.editing import validation_fields
from bastion.tenancy.access import AccessDenied

logger = logging.getLogger("bastion.api")


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def _ninja_fields(errors: list[dict]) -> dict:
    fields: dict[str, list[dict]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", [])]
        # ("body", "payload", "quantity") → "quantity"; ("query", "page") → "page"
        name = ".".join(loc[2:] if len(loc) > 2 and loc[0] == "body" else loc[1:]) or "__all__"
        fields.setdefault(name, []).append({"code": error.get("type", "invalid"), "message": error.get("msg", "Invalid.")})
    return fields


def install(api: NinjaAPI) -> None:
    def respond(request, status: int, body: dict):
        return api.create_response(request, body, status=status)

    @api.exception_handler(AccessDenied)
    def access_denied(request, exc: AccessDenied):
        return respond(request, exc.status, error_body(exc.code, exc.message))

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        return respond(request, 401, error_body("not_authenticated", "Sign in or send an API credential."))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, error_body("not_found", "Not found."))

    @api.exception_handler(NinjaValidationError)
    def invalid_request(request, exc: NinjaValidationError):
        return respond(request, 422, error_body("invalid_input", "The request has invalid fields.", _ninja_fields(exc.errors)))

    @api.exception_handler(DjangoValidationError)
    def invalid_data(request, exc: DjangoValidationError):
        return respond(request, 422, error_body("invalid_input", "The request has invalid fields.", validation_fields(exc)))

    @api.exception_handler(ArtifactUnreadable)
    def unreadable_file(request, exc: ArtifactUnreadable):
        logger.error("stored file unreadable: %s", exc)  # altered or lost in object storage: an integrity alarm
        return respond(request, 409, error_body("stored_file_unreadable",
                                                "The stored file cannot be read: it was altered, lost or its keys destroyed."))

    @api.exception_handler(CsvImportError)
    def invalid_csv(request, exc: CsvImportError):
        return respond(request, 422, error_body(exc.code, exc.message, {"file": [{"code": exc.code, "message": exc.message}]}))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = "csrf_failed" if exc.status_code == 403 and "CSRF" in str(exc) else "http_error"
        if exc.status_code == 400:
            code = "malformed_request"
        return respond(request, exc.status_code, error_body(code, str(exc)))

    @api.exception_handler(MultiPartParserError)
    @api.exception_handler(UnreadablePostError)
    def unreadable_body(request, exc):
        return respond(request, 400, error_body("malformed_request", "The request body cannot be read."))

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc: SuspiciousOperation):
        if isinstance(exc, RequestDataTooBig):
            return respond(request, 413, error_body("request_too_large", "The request body is too large."))
        return respond(request, 400, error_body("malformed_request", "The request was refused as malformed."))

    @api.exception_handler(Exception)
    def server_error(request, exc: Exception):
        logger.exception("unhandled API error on %s %s", request.method, request.path)
        return respond(request, 500, error_body("server_error", "Something went wrong on our side; it has been logged."))
