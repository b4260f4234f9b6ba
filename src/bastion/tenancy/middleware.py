"""Start and end every request with no tenant context, so nothing leaks between requests."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from bastion.tenancy import context


class TenantContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context.clear()
        try:
            return self.get_response(request)
        finally:
            context.clear()
