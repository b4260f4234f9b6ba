"""Bind each request to the audit context and answer with its request id (``X-Request-ID``)."""

from __future__ import annotations

from bastion.audit import context


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.bind_request(request)
        try:
            response = self.get_response(request)
        finally:
            context.unbind_request(token)
        response["X-Request-ID"] = request.audit_request_id
        return response
