"""Security headers on every response: pages, errors, redirects, the API and static files.

Django's SecurityMiddleware sends HSTS (over TLS only), nosniff, Referrer-Policy and COOP, and
django-csp the Content-Security-Policy; this adds what neither has a setting for, and sits above
WhiteNoise so that static files get the same headers as pages.
"""

from __future__ import annotations

from django.conf import settings

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "geolocation", "microphone", "camera", "payment", "usb", "interest-cohort", "browsing-topics"))


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if _carries_credentials(request):
            # A signed-in page or an API answer is nobody else's: no cache, shared or private, keeps it.
            response.headers["Cache-Control"] = "no-store"
        return response


def _carries_credentials(request) -> bool:
    user = getattr(request, "user", None)
    return bool(getattr(user, "is_authenticated", False)) or "HTTP_AUTHORIZATION" in request.META
