"""What every SCIM endpoint shares: the bearer token, the organisation's tenant context, the
``scim`` audit actor, JSON in and out, and a SCIM error body for every failure.

A view is declared with ``endpoint(get=…, post=…)``. Before any handler runs, the token is checked
(401 otherwise, whatever the method), which makes the organisation's tenant context active for
the request's transaction; each handler then runs in a savepoint of its own, so a request that
fails part-way leaves nothing behind. No cookie is read, so there is no CSRF to protect against.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError
from scim2_models import (
    ConflictException,
    Error,
    ForbiddenException,
    InvalidSyntaxException,
    InvalidValueException,
    NotFoundException,
    PayloadTooLargeException,
    SCIMException,
    UnauthorizedException,
    UniquenessException,
)

from bastion.audit.context import Actor, acting_as
from bastion.identity.scim import tokens
from bastion.identity.scim.resources import PROVIDER
from bastion.tenancy.access import public

logger = logging.getLogger("bastion.scim")

SCIM_JSON = "application/scim+json"
ACCEPTED_TYPES = {SCIM_JSON, "application/json"}
# Refusals of the tenancy actions that are about who may do it, not about the input.
FORBIDDEN_CODES = {"exceeds_grantor", "owner_only"}
CONFLICT_CODES = {"last_owner"}


class MethodNotAllowed(SCIMException):
    status = 405
    _default_detail = "This endpoint does not support this HTTP method"


class UnsupportedMediaType(SCIMException):
    status = 415
    _default_detail = "Send application/scim+json (or application/json)"


@dataclass
class ScimRequest:
    """The Django request and the principal the token established."""

    http: Any
    principal: tokens.ScimPrincipal

    @property
    def organisation(self):
        return self.principal.organisation

    @property
    def query(self) -> dict[str, str]:
        return self.http.GET.dict()

    def location(self, name: str, resource_id) -> str:
        return self.http.build_absolute_uri(reverse(f"scim:{name}", args=[str(resource_id)]))

    def json(self) -> dict:
        """The request body as a JSON object (SCIM or plain JSON media type)."""
        if self.http.content_type not in ACCEPTED_TYPES:
            raise UnsupportedMediaType()
        try:
            body = json.loads(self.http.body or b"null")
        except RequestDataTooBig as exc:
            raise PayloadTooLargeException() from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidSyntaxException(detail="The request body is not valid JSON.") from exc
        if not isinstance(body, dict):
            raise InvalidSyntaxException(detail="The request body must be a JSON object.")
        return body


def respond(data: dict, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(json.dumps(data, default=str), status=status, content_type=SCIM_JSON)
    for name, value in headers.items():
        response[name] = value
    return response


def no_content() -> HttpResponse:
    return HttpResponse(status=204)


def error_response(exc: SCIMException) -> HttpResponse:
    error = exc.to_error()
    return respond(error.model_dump(), status=int(error.status or exc.status))


def _from_validation(exc: ValidationError) -> SCIMException:
    errors = exc.errors()
    error = Error.from_validation_error(errors[0]) if errors else Error(status=400, detail="Invalid request.")
    return SCIMException.from_error(error)


def _from_django(exc: DjangoValidationError) -> SCIMException:
    errors = [e for field in exc.error_dict.values() for e in field] if hasattr(exc, "error_dict") else exc.error_list
    codes = {error.code for error in errors}
    detail = " ".join(exc.messages)
    if codes & FORBIDDEN_CODES:
        return ForbiddenException(detail=detail)
    if codes & CONFLICT_CODES:
        return ConflictException(detail=detail)
    return InvalidValueException(detail=detail)


def not_found(what: str = "Resource") -> NotFoundException:
    return NotFoundException(detail=f"{what} not found")


def _bearer(request) -> str | None:
    scheme, _, credential = (request.META.get("HTTP_AUTHORIZATION") or "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" and credential.strip() else None


def endpoint(**handlers):
    """A SCIM view: ``handlers`` maps lower-case HTTP methods to ``handler(scim_request, **kwargs)``."""
    by_method = {method.upper(): handler for method, handler in handlers.items()}

    @public  # to the tenancy layer: this view authenticates the organisation's bearer token itself
    @csrf_exempt
    def view(request, **kwargs):
        try:
            presented = _bearer(request)
            principal = tokens.authenticate(presented) if presented else None
            if principal is None:
                raise UnauthorizedException(detail="Send the organisation's SCIM token: Authorization: Bearer bst_…")
            handler = by_method.get(request.method)
            if handler is None:
                response = error_response(MethodNotAllowed())
                response["Allow"] = ", ".join(sorted(by_method))
                return response
            actor = Actor("scim", principal.token.public_id, f"SCIM provisioning ({principal.organisation.slug})")
            with acting_as(actor), PROVIDER, transaction.atomic():
                return handler(ScimRequest(request, principal), **kwargs)
        except UnauthorizedException as exc:
            response = error_response(exc)
            response["WWW-Authenticate"] = 'Bearer realm="SCIM"'
            return response
        except SCIMException as exc:
            return error_response(exc)
        except IntegrityError:  # a concurrent request took the same userName or displayName first
            return error_response(UniquenessException())
        except ValidationError as exc:
            return error_response(_from_validation(exc))
        except DjangoValidationError as exc:
            return error_response(_from_django(exc))
        except Exception:
            logger.exception("SCIM request failed")  # a bug: still answered in SCIM's error format
            return error_response(SCIMException.from_error(Error(status=500, detail="Internal error.")))

    return view


@public
@csrf_exempt
def unknown(request, path: str = ""):
    """Any other URL under /scim/v2/: a SCIM 404, not the console's HTML page."""
    return error_response(not_found("Endpoint"))
