"""The staff console for vulnerability reports (``/staff/reports/``, security role): the queue with
its acknowledgement and assessment timers, and a report's page: what the reporter wrote, the
messages, and the steps (acknowledge, assess with a CVSS 4.0 vector, fixing, resolved, disclosed,
rejected) — each posting an ``action`` that one service function carries out."""

from __future__ import annotations

import datetime
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from bastion.incidents import disclosure
from bastion.incidents.models import DISCLOSED, REJECTED, STAFF, VulnerabilityReport
from bastion.support_access.staff import staff_only

SECURITY = "security"


@staff_only(SECURITY)
def report_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = [{"report": r, "timers": disclosure.timers(r)} for r in VulnerabilityReport.objects.all()[:200]]
    return render(request, "incidents/staff_reports.html", {"rows": rows, "now": now})


def _page(request: HttpRequest, report: VulnerabilityReport, *, status: int = 200,
          errors: list[str] | None = None) -> HttpResponse:
    return render(request, "incidents/staff_report.html", {
        "report": report, "details": disclosure.details(report), "messages_": disclosure.messages(report),
        "timers": disclosure.timers(report), "now": timezone.now(), "errors": errors or [],
        "moves": [step for step, sources in disclosure.MOVES.items() if report.status in sources and step != "triaged"],
        "can_triage": report.status in disclosure.MOVES["triaged"], "closed": report.status in (DISCLOSED, REJECTED),
    }, status=status)


@staff_only(SECURITY)
def report_page(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    report = get_object_or_404(VulnerabilityReport, id=report_id)
    if request.method != "POST":
        return _page(request, report)
    action = request.POST.get("action", "")
    base_url = request.build_absolute_uri("/").rstrip("/")
    try:
        if action == "message":
            disclosure.add_message(report, author=STAFF, body=request.POST.get("body", ""), base_url=base_url)
        elif action == "triage":
            due = request.POST.get("disclosure_due", "")
            disclosure.triage(report, cvss_vector=request.POST.get("cvss_vector", ""),
                              disclosure_due=datetime.date.fromisoformat(due) if due else None)
        elif action == "link_incident":
            disclosure.link_incident(report, request.POST.get("incident", ""))
        elif action in disclosure.MOVES:
            disclosure.move(report, action, note=request.POST.get("note", ""))
        else:
            return _page(request, report, status=400, errors=["Unknown action."])
    except disclosure.NotAllowed as refused:
        return _page(request, report, status=409, errors=[str(refused)])
    except ValidationError as invalid:
        return _page(request, report, status=400, errors=invalid.messages)
    except ValueError:
        return _page(request, report, status=400, errors=["The disclosure date is YYYY-MM-DD."])
    messages.success(request, "Done.")
    return redirect("staff_report", report_id=report.id)
