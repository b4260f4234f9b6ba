"""Start and end every request with no tenant context, so nothing leaks between requests."""

from __future__ import annotations

from bastion.tenancy import context


class TenantContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context.clear()
        try:
            return self.get_response(request)
        finally:
            context.clear()
