"""Each request counted (``bastion.operations.metrics``) and logged once, as it leaves.

The outermost middleware, so the time and status are what the client got, refusals by the
hardening layer (429, 413) included. The log line's request id is the audit events' and the
``X-Request-ID`` header's (``bastion.audit.middleware``).
"""

from __future__ import annotations

import time

from bastion.operations import logs
from bastion.operations.metrics import observe_request

log = logs.request_logger()


def _ids(request) -> tuple[str | None, str | None]:
    access = getattr(request, "access", None)
    organisation = getattr(access, "organisation", None)
    user = getattr(request, "principal", None) or getattr(request, "user", None)
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    return (str(organisation.id) if organisation is not None else None,
            str(user_id) if user_id is not None else None)


class ObservedRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = observe_request(request, response.status_code, seconds)
        organisation_id, user_id = _ids(request)
        log.info("request", request_id=getattr(request, "audit_request_id", None), route=route,
                 method=request.method, status=response.status_code, duration_ms=round(seconds * 1000, 2),
                 organisation_id=organisation_id, user_id=user_id)
        return response
