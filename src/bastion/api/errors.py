"""Every API error has one shape: ``{"error": {"code", "message", "fields"}}``; never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from bastion.crypto import customer_kms
from bastion.crypto.artifacts import ArtifactUnreadable
from bastion.incidents.refusals import NotAllowed as StepNotAllowed
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


Answer = tuple[int, dict]


def _access_denied(request: Any, exc: AccessDenied) -> Answer:
    return exc.status, error_body(exc.code, exc.message)


def _not_authenticated(request: Any, exc: Exception) -> Answer:
    return 401, error_body("not_authenticated", "Sign in or send an API credential.")


def _not_found(request: Any, exc: Exception) -> Answer:
    return 404, error_body("not_found", "Not found.")


def _invalid_request(request: Any, exc: NinjaValidationError) -> Answer:
    return 422, error_body("invalid_input", "The request has invalid fields.", _ninja_fields(list(exc.errors)))


# Refusals that are not bad input but a clash with what exists: 409, with the field's own code.
CONFLICTS = frozenset({"slug_taken", "domain_taken", "duplicate", "duplicate_domain", "duplicate_membership",
                       "duplicate_name", "conflict", "unique", "unique_together"})


def _invalid_data(request: Any, exc: DjangoValidationError) -> Answer:
    fields = validation_fields(exc)
    codes = {item["code"] for problems in fields.values() for item in problems}
    if codes and codes <= CONFLICTS:
        return 409, error_body("conflict", "It conflicts with something that already exists.", fields)
    return 422, error_body("invalid_input", "The request has invalid fields.", fields)


def _customer_key_unavailable(exc: customer_kms.CustomerKeyUnavailable) -> Answer:
    return 503, error_body("customer_key_unavailable", customer_kms.UNAVAILABLE_MESSAGE, detail=str(exc))


def _unreadable_file(request: Any, exc: ArtifactUnreadable) -> Answer:
    refusal = customer_kms.unavailable_in(exc)
    if refusal:
        return _customer_key_unavailable(refusal)
    logger.error("stored file unreadable: %s", exc)  # altered or lost in object storage: an integrity alarm
    return 409, error_body("stored_file_unreadable",
                           "The stored file cannot be read: it was altered, lost or its keys destroyed.")


def _invalid_csv(request: Any, exc: CsvImportError) -> Answer:
    return 422, error_body(exc.code, exc.message, {"file": [{"code": exc.code, "message": exc.message}]})


def _http_error(request: Any, exc: HttpError) -> Answer:
    code = "csrf_failed" if exc.status_code == 403 and "CSRF" in str(exc) else "http_error"
    if exc.status_code == 400:
        code = "malformed_request"
    return exc.status_code, error_body(code, str(exc))


def _unreadable_body(request: Any, exc: Exception) -> Answer:
    return 400, error_body("malformed_request", "The request body cannot be read.")


def _suspicious(request: Any, exc: SuspiciousOperation) -> Answer:
    if isinstance(exc, RequestDataTooBig):
        return 413, error_body("request_too_large", "The request body is too large.")
    return 400, error_body("malformed_request", "The request was refused as malformed.")


def _step_not_allowed(request: Any, exc: StepNotAllowed) -> Answer:
    return 409, error_body("not_allowed_now", str(exc))


def _server_error(request: Any, exc: Exception) -> Answer:
    # A value that did not open (also one met only while a response was serialised) because the
    # organisation's own key refused is the customer's key state, not our error.
    refusal = customer_kms.unavailable_in(exc)
    if refusal:
        return _customer_key_unavailable(refusal)
    logger.exception("unhandled API error on %s %s", request.method, request.path)
    return 500, error_body("server_error", "Something went wrong on our side; it has been logged.")


# Each exception the API can meet, and its answer; ninja picks the handler of the nearest class.
ANSWERS: list[tuple[type[Exception], Callable[[Any, Any], Answer]]] = [
    (AccessDenied, _access_denied),
    (AuthenticationError, _not_authenticated),
    (Http404, _not_found),
    (NinjaValidationError, _invalid_request),
    (DjangoValidationError, _invalid_data),
    (ArtifactUnreadable, _unreadable_file),
    (CsvImportError, _invalid_csv),
    (HttpError, _http_error),
    (StepNotAllowed, _step_not_allowed),
    (MultiPartParserError, _unreadable_body),
    (UnreadablePostError, _unreadable_body),
    (SuspiciousOperation, _suspicious),
    (Exception, _server_error),
]


def _responder(api: NinjaAPI, answer: Callable[[Any, Any], Answer]) -> Callable[[HttpRequest, Any], HttpResponse]:
    def handler(request: HttpRequest, exc: Any) -> HttpResponse:
        status, body = answer(request, exc)
        return api.create_response(request, body, status=status)
    return handler


def install(api: NinjaAPI) -> None:
    for exception, answer in ANSWERS:
        api.add_exception_handler(exception, _responder(api, answer))
