"""Session and CSRF cookies are ``Secure`` whenever the response goes out over TLS, without a
setting to forget (``BASTION_SECURE_COOKIES`` still forces them Secure everywhere). Over plain
HTTP (the demo on localhost) a Secure cookie would never come back, so there it is not set."""

from __future__ import annotations

from django.conf import settings


class SecureCookiesOverTLSMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.is_secure():
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, "messages", "mfa_trusted"):
                if name in response.cookies:
                    response.cookies[name]["secure"] = True
        return response
