"""Request bodies larger than the largest upload are refused from their Content-Length, before a
byte is read (Django bounds form fields, not files). Content sniffing against the declared type
and the no-execute download live with the evidence files (records.evidence)."""

from __future__ import annotations

from django.conf import settings

from bastion.hardening.refusals import refusal

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
    if malformed:
        return refusal(request, 400, "bad_content_length", "The Content-Length header is not a number.")
    return refusal(request, 413, "too_large",
                   f"The request is larger than the largest upload ({settings.BASTION_EVIDENCE_MAX_BYTES} bytes).")
