"""One shape for a request the hardening layer refuses before any view runs: a SCIM error for SCIM
clients, the API's ``{"error": {code, message, fields}}`` for the API (and the CSP report
endpoint), a short page for browsers."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.utils.html import escape

JSON_PATHS = ("/api/", "/csp-report/")


def refusal(request, status: int, code: str, message: str, title: str = "Refused") -> HttpResponse:
    if request.path.startswith("/scim/"):
        return JsonResponse({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status),
                             "detail": message}, status=status, content_type="application/scim+json")
    if request.path.startswith(JSON_PATHS):
        return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)
    return HttpResponse(f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(message)}</p>",
                        status=status, content_type="text/html; charset=utf-8")
