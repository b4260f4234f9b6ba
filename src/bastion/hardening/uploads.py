"""Request bodies larger than the largest upload are refused from their Content-Length, before a
byte is read (Django bounds form fields, not files). Content sniffing against the declared type
and the no-execute download live with the evidence files (records.evidence)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse

MULTIPART_OVERHEAD = 64 * 1024  # field names, boundaries and headers around the largest file


def largest_body() -> int:
    return max(settings.BASTION_EVIDENCE_MAX_BYTES, settings.BASTION_CSV_MAX_BYTES) + MULTIPART_OVERHEAD


class RequestSizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > largest_body():
            return _too_large(request, length < 0)
        return self.get_response(request)


def _too_large(request, malformed: bool):
    code, status = ("bad_content_length", 400) if malformed else ("too_large", 413)
    message = "The Content-Length header is not a number." if malformed else (
        f"The request is larger than the largest upload ({settings.BASTION_EVIDENCE_MAX_BYTES} bytes).")
    if request.path.startswith(("/api/", "/scim/")):
        return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)
    return HttpResponse(f"<!doctype html><title>Refused</title><h1>Refused</h1><p>{message}</p>", status=status,
                        content_type="text/html; charset=utf-8")
