"""The CSP report endpoint: browsers POST violations here (``report-uri``, and the Reporting API's
``report-to``). Each is stored, bounded in size; the endpoint is rate limited like every route
(``rate_limits``), so it cannot be used to fill the database."""

from __future__ import annotations

import json
import logging

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bastion.hardening.models import CspViolation
from bastion.tenancy.access import public

logger = logging.getLogger("bastion.csp")
MAX_BODY = 64 * 1024
MAX_REPORTS = 20


def _reports(payload) -> list[dict]:
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):  # report-uri
        return [payload["csp-report"]]
    if isinstance(payload, list):  # Reporting API: [{"type": "csp-violation", "body": {...}}, ...]
        return [item["body"] for item in payload[:MAX_REPORTS]
                if isinstance(item, dict) and item.get("type") == "csp-violation" and isinstance(item.get("body"), dict)]
    return []


def _text(report: dict, *names: str, limit: int) -> str:
    for name in names:
        if report.get(name) not in (None, ""):
            return str(report[name]).replace("\x00", "")[:limit]
    return ""


@public
@csrf_exempt
@require_POST
def csp_report(request):
    if len(request.body) > MAX_BODY:
        return JsonResponse({"error": {"code": "too_large", "message": "Report too large.", "fields": {}}},
                            status=413)
    try:
        reports = _reports(json.loads(request.body))
    except (ValueError, UnicodeDecodeError):
        reports = []
    if not reports:
        return JsonResponse({"error": {"code": "invalid_report", "message": "Not a CSP report.", "fields": {}}},
                            status=400)
    agent = (request.META.get("HTTP_USER_AGENT") or "")[:300]
    with transaction.atomic():
        for report in reports:
            violation = CspViolation.objects.create(
                document_uri=_text(report, "document-uri", "documentURL", limit=500),
                violated_directive=_text(report, "violated-directive", "effective-directive",
                                         "effectiveDirective", limit=200),
                blocked_uri=_text(report, "blocked-uri", "blockedURL", limit=500),
                source_file=_text(report, "source-file", "sourceFile", limit=500),
                line_number=_line(report), sample=_text(report, "script-sample", "sample", limit=200),
                user_agent=agent,
            )
            logger.warning("CSP violation: %s", violation)
    return HttpResponse(status=204)


def _line(report: dict) -> int | None:
    value = report.get("line-number", report.get("lineNumber"))
    return value if isinstance(value, int) and 0 <= value < 2**31 else None
