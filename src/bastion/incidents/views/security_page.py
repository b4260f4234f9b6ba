"""The public side of vulnerability disclosure: the policy and report form at ``/security``, the
reporter's private page (``/security/reports/<token>``: status, timers, messages, a reply form),
and the acknowledgments page that security.txt links. Nobody signs in: the private link is the
reporter's authority, and it reads and writes one report only."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from bastion.incidents import disclosure
from bastion.incidents.models import REPORTER
from bastion.tenancy.access import public

OUT_OF_SCOPE = [
    "Social engineering of Bastion's staff or customers (phishing, vishing, pretexting)",
    "Physical attacks on offices, data centres or devices",
    "Denial of service, load or volumetric testing",
    "Issues in third-party services that Bastion does not control (report them to their owners)",
    "Accessing, changing or deleting data of customers other than a test account of your own",
]


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _field_errors(exc: ValidationError) -> dict[str, list[dict[str, str]]]:
    return {name: [{"code": e.code or "invalid", "message": str(e.message)} for e in errors]
            for name, errors in exc.error_dict.items()}


def _policy_context(**extra: object) -> dict[str, object]:
    return {"out_of_scope": OUT_OF_SCOPE, "acknowledge_days": settings.BASTION_DISCLOSURE_ACKNOWLEDGE_DAYS,
            "triage_days": settings.BASTION_DISCLOSURE_TRIAGE_DAYS,
            "window_days": settings.BASTION_DISCLOSURE_WINDOW_DAYS,
            "max_chars": settings.BASTION_SECURITY_REPORT_MAX_CHARS, **extra}


@public
@require_http_methods(["GET", "HEAD", "POST"])
def security(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "incidents/security.html", _policy_context(values={}))
    form = request.POST
    try:
        received = disclosure.receive(
            title=form.get("title", ""), description=form.get("description", ""), affected=form.get("affected", ""),
            reporter_name=form.get("reporter_name", ""), reporter_email=form.get("reporter_email", ""),
            wants_credit=form.get("wants_credit") == "on", credit_name=form.get("credit_name", ""),
            base_url=_base_url(request))
    except ValidationError as exc:
        if not request.accepts("text/html"):
            return JsonResponse({"error": {"code": "invalid", "message": "The report is incomplete.",
                                           "fields": _field_errors(exc)}}, status=400)
        return render(request, "incidents/security.html",
                      _policy_context(values=form, errors=exc.message_dict), status=400)
    if not request.accepts("text/html"):
        return JsonResponse({"reference": received.report.reference,
                             "follow_url": disclosure.follow_url(_base_url(request), received.follow_token)},
                            status=201)
    return redirect("security_report", token=received.follow_token)


@public
@require_http_methods(["GET", "HEAD", "POST"])
def report(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = disclosure.by_follow_token(token)
    except disclosure.InvalidLink:
        return render(request, "incidents/report.html", {"invalid": True}, status=404)
    errors = {}
    if request.method == "POST":
        try:
            disclosure.add_message(found, author=REPORTER, body=request.POST.get("body", ""))
            return redirect("security_report", token=token)
        except ValidationError as exc:
            errors = exc.message_dict
    return render(request, "incidents/report.html", {
        "report": found, "details": disclosure.details(found), "messages": disclosure.messages(found),
        "timers": disclosure.timers(found), "errors": errors, "max_chars": settings.BASTION_SECURITY_REPORT_MAX_CHARS,
    }, status=400 if errors else 200)


@public
@require_http_methods(["GET", "HEAD"])
def acknowledgments(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/acknowledgments.html", {"reports": disclosure.acknowledgments()})
