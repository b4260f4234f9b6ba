"""The staff console under ``/staff/``: ask for access, follow one's requests, approve a colleague's
break-glass request (security role), review ended grants (security role)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bastion.support_access import clock, requests
from bastion.support_access.models import DEFAULT_MINUTES, MAX_MINUTES, MODES, REASONS, AccessRequest
from bastion.support_access.staff import staff_only
from bastion.tenancy import context


class AskForm(forms.Form):
    organisation = forms.SlugField(max_length=50, help_text="the organisation's slug")
    reason = forms.ChoiceField(choices=REASONS)
    reference = forms.CharField(max_length=200, required=False, label="Ticket or case reference")
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)
    mode = forms.ChoiceField(choices=MODES, initial="read_only")
    minutes = forms.IntegerField(min_value=1, max_value=MAX_MINUTES, initial=DEFAULT_MINUTES,
                                 help_text="at most 8 hours; break-glass at most 60 minutes")
    workspaces = forms.CharField(required=False, help_text="workspace ids, comma-separated (empty: the whole organisation)")
    projects = forms.CharField(required=False, help_text="project ids, comma-separated")
    break_glass = forms.BooleanField(required=False, label="Break-glass (incident: a second staff member opens it at once)")


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _page(request, form=None, status=200):
    user = request.user
    now = clock.now()
    with context.platform_scope():
        mine = list(AccessRequest.all_tenants.filter(requested_by=user).select_related("organisation")[:100])
        break_glass = list(AccessRequest.all_tenants.filter(break_glass=True, state="pending", answer_by__gt=now)
                           .exclude(requested_by=user).select_related("organisation")) \
            if user.staff_role == "security" else []
        to_review = [r for r in AccessRequest.all_tenants.filter(state="approved", staff_reviewed_at__isnull=True)
                     .exclude(requested_by=user).select_related("organisation") if r.has_ended_at(now)] \
            if user.staff_role == "security" else []
    return render(request, "support_access/staff_console.html", {
        "form": form or AskForm(), "mine": mine, "break_glass": break_glass, "to_review": to_review, "now": now,
        "can_ask": user.staff_role in requests.ASKERS,
    }, status=status)


@staff_only()
def staff_home(request):
    return _page(request)


@staff_only(*requests.ASKERS)
@require_POST
def ask(request):
    form = AskForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = requests.ask(request.user, data["organisation"], reason=data["reason"], reference=data["reference"],
                                details=data["details"], mode=data["mode"], minutes=data["minutes"],
                                workspace_ids=_split(data["workspaces"]), project_ids=_split(data["projects"]),
                                break_glass=data["break_glass"], base_url=request.build_absolute_uri("/"))
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, f"Access requested ({made.id}): "
                             + ("a second staff member must approve it." if made.break_glass
                                else "the organisation's admins have been asked."))
            return redirect("staff_home")
    return _page(request, form, status=400)


def _errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@staff_only("security")
@require_POST
def break_glass_approve(request, access_request_id):
    try:
        requests.break_glass_approve(access_request_id, request.user, base_url=request.build_absolute_uri("/"))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Break-glass access opened; the organisation has been told.")
    return redirect("staff_home")


@staff_only("security")
@require_POST
def staff_review(request, access_request_id):
    with context.platform_scope():
        found = AccessRequest.all_tenants.filter(id=access_request_id).first()
    if found is None:
        messages.error(request, "No such grant.")
        return redirect("staff_home")
    try:
        with context.tenant_context(found.organisation_id):
            requests.review(found, request.user, as_staff=True)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Marked reviewed.")
    return redirect("staff_home")
