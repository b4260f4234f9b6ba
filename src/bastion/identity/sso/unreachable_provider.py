"""An identity provider that cannot be reached — down, or refused because its address is in the
platform's own network (``sso/guarded_requests.py``) — ends the sign-in with allauth's authentication
error page and an ``auth.sso.failed`` event, not a server error: allauth fetches the OIDC discovery
document outside the error handling of its views."""

from __future__ import annotations

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.base import AuthError
from django.http import HttpRequest, HttpResponse
from requests import RequestException


class UnreachableProviderMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        match = request.resolver_match
        if not isinstance(exception, RequestException) or match is None or "provider_id" not in match.kwargs:
            return None
        provider = get_adapter().get_provider(request, match.kwargs["provider_id"])
        response = render_authentication_error(request, provider, error=AuthError.UNKNOWN, exception=exception)
        response.status_code = 502
        return response
