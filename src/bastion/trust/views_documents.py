"""Documents under NDA on the web: the public request (name, email, company and the accepted NDA,
rate limited as ``trust_document_request``), the released link that downloads the document until it
expires, and the security staff's page under ``/staff/documents/`` (upload, withdraw, approve or
deny the requests waiting for them). Bad input gets its form back with a 400 (JSON for non-HTML
clients), an expired link a 410 page, a link that was never released a 404 page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from bastion.support_access.staff import staff_only
from bastion.tenancy.access import public
from bastion.trust import documents
from bastion.trust.models import NdaDocument

SECURITY = "security"
UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _field_errors(exc: ValidationError) -> dict[str, list[dict[str, str]]]:
    return {name: [{"code": e.code or "invalid", "message": str(e.message)} for e in errors]
            for name, errors in exc.error_dict.items()}


def _offered(document_id) -> NdaDocument:
    return get_object_or_404(NdaDocument, id=document_id, withdrawn_at__isnull=True)


@public
@require_http_methods(["GET", "HEAD", "POST"])
def request_document(request: HttpRequest, document_id) -> HttpResponse:
    document = _offered(document_id)
    page = {"document": document, "nda_text": documents.NDA_TEXT, "values": {}, "errors": {}}
    if request.method != "POST":
        return render(request, "trust/document_request.html", page)
    form = request.POST
    try:
        made = documents.request_access(document, name=form.get("name", ""), email=form.get("email", ""),
                                        company=form.get("company", ""), accepted_nda=form.get("accept_nda") == "on",
                                        base_url=_base_url(request))
    except ValidationError as exc:
        if not request.accepts("text/html"):
            return JsonResponse({"error": {"code": "invalid", "message": "The request is incomplete.",
                                           "fields": _field_errors(exc)}}, status=400)
        return render(request, "trust/document_request.html",
                      {**page, "values": form, "errors": exc.message_dict}, status=400)
    if not request.accepts("text/html"):
        return JsonResponse({"state": made.state}, status=201)
    return render(request, "trust/document_requested.html", {"document": document, "request_": made}, status=201)


@public
@require_safe
def document_link(request: HttpRequest, token: str) -> HttpResponse | FileResponse:
    try:
        download = documents.open_link(token)
    except documents.LinkInvalid:
        return render(request, "trust/document_link.html", {"invalid": True}, status=404)
    except documents.LinkExpired:
        return render(request, "trust/document_link.html", {"expired": True}, status=410)
    response = FileResponse(download.content, as_attachment=True, filename=download.document.filename,
                            content_type=download.document.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "no-store"
    return response


class UploadForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=NdaDocument.KINDS)
    approval = forms.ChoiceField(choices=NdaDocument.APPROVALS, initial=NdaDocument.STAFF)
    lifetime = forms.IntegerField(min_value=1, initial=7, label="Each link downloads for")
    unit = forms.ChoiceField(choices=[(u, u) for u in UNITS], initial="days")
    file = forms.FileField(help_text="PDF, PNG, JPEG, text or XLSX")


def _staff_page(request: HttpRequest, form: UploadForm | None = None, status: int = 200) -> HttpResponse:
    return render(request, "trust/staff_documents.html", {
        "form": form or UploadForm(), "documents": documents.offered(), "pending": documents.pending(),
    }, status=status)


@staff_only(SECURITY)
@require_http_methods(["GET", "HEAD", "POST"])
def staff_documents(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _staff_page(request)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            documents.upload(data["file"], title=data["title"], kind=data["kind"], approval=data["approval"],
                             access_seconds=data["lifetime"] * UNITS[data["unit"]], by=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error("lifetime" if field == "access_seconds" else field if field in form.fields else None,
                               errors)
        else:
            messages.success(request, f"{data['title']} is offered on /trust.")
            return redirect("staff_documents")
    return _staff_page(request, form, status=400)


@staff_only(SECURITY)
@require_POST
def staff_withdraw(request: HttpRequest, document_id) -> HttpResponse:
    documents.withdraw(_offered(document_id), by=request.user)
    messages.success(request, "Withdrawn: no new request, and its links no longer download.")
    return redirect("staff_documents")


@staff_only(SECURITY)
@require_POST
def staff_decide(request: HttpRequest, request_id) -> HttpResponse:
    decision = request.POST.get("decision", "")
    try:
        if decision == "approve":
            documents.approve(request_id, by=request.user, base_url=_base_url(request))
        elif decision == "deny":
            documents.deny(request_id, by=request.user)
        else:
            messages.error(request, "Approve or deny.")
            return _staff_page(request, status=400)
    except documents.LinkInvalid:
        return _staff_page(request, status=404)
    except documents.DecisionRefused as refused:
        messages.error(request, str(refused).capitalize() + ".")
        return _staff_page(request, status=409)
    messages.success(request, "Approved: the link is emailed." if decision == "approve" else "Denied.")
    return redirect("staff_documents")
