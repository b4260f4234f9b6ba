"""CSRF defence by origin (seed 001), beside Django's token (seed 002): a state-changing request
that carries the session cookie must come from an allowed origin.

The allowed origins are this site's own (scheme and host of the request) and
``BASTION_ALLOWED_ORIGINS``. ``Origin`` is checked, or ``Referer`` when a browser sent no Origin;
a request with neither (not a browser) still needs Django's CSRF token. A request without the
session cookie carries no ambient credential (an API key, a SCIM token, the SAML IdP's POST to
the ACS), so there is nothing to forge and it is not checked here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from bastion.hardening.refusals import refusal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(request) -> set[str]:
    own = f"{request.scheme}://{request.get_host()}".lower()
    return {own, *(origin.lower().rstrip("/") for origin in settings.BASTION_ALLOWED_ORIGINS)}


class OriginCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS and settings.SESSION_COOKIE_NAME in request.COOKIES:
            claimed = request.META.get("HTTP_ORIGIN")
            if claimed is None and request.META.get("HTTP_REFERER"):
                claimed = _origin_of(request.META["HTTP_REFERER"]) or "invalid"
            if claimed is not None and claimed.lower() not in allowed_origins(request):
                return refusal(request, 403, "cross_origin", "This request came from another site, so it was refused.")
        return self.get_response(request)
