"""The organisation's members: who has which role where; add, change and remove grants."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bastion.console.forms import AddMemberForm, MembershipRoleForm, add_action_errors
from bastion.console.views import flash_outcome
from bastion.identity import invitations
from bastion.identity.mfa import step_up
from bastion.identity.models import Invitation
from bastion.tenancy import actions
from bastion.tenancy.access import requires
from bastion.tenancy.models import Membership, Project, Workspace


def _grants():
    return Membership.objects.select_related(
        "user", "organisation", "custom_role", "workspace", "project__workspace"
    ).order_by("user__email", "created_at")


def _membership(membership_id) -> Membership:
    return get_object_or_404(_grants(), id=membership_id)


def _add_form(data=None) -> AddMemberForm:
    return AddMemberForm(
        data,
        workspaces=Workspace.objects.order_by("name"),
        projects=Project.objects.select_related("workspace").order_by("workspace__name", "name"),
    )


def _render_list(request, form):
    pending = list(invitations.pending()) if request.access.can("members.manage") else []
    for invitation in pending:
        invitation.role_name = invitations.role_label(invitation)
    return render(request, "console/members.html", {"grants": list(_grants()), "form": form, "invitations": pending})


@requires("members.view")
def members(request, org):
    return _render_list(request, _add_form() if request.access.can("members.manage") else None)


def _scope(value: str) -> dict:
    """``workspace:<uuid>`` / ``project:<uuid>`` from the scope select → the action's keyword."""
    if not value:
        return {}
    kind, _, object_id = value.partition(":")
    model = {"workspace": Workspace, "project": Project}[kind]
    return {kind: get_object_or_404(model.objects.all(), id=object_id)}


@requires("members.manage")
@require_POST
def member_add(request, org):
    """Invite: the same message whether or not the address has an account; they join by accepting."""
    access = request.access
    form = _add_form(request.POST)
    if form.is_valid():
        step_up.require_for_role(request, access.organisation, form.cleaned_data["role"])
        try:
            result = invitations.invite(
                access.organisation, email=form.cleaned_data["email"], role=form.cleaned_data["role"],
                invited_by_id=request.user.pk, grantor_grants=access.grants, request=request,
                **_scope(form.cleaned_data["scope"]),
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            if result.status == "added":
                messages.success(request, f"{result.email} added (an address of your verified domain).")
            else:
                messages.success(request, f"Invitation sent to {result.email}. They join when they accept it.")
            return redirect("console:members", org=org)
    return _render_list(request, form)


@requires("members.manage")
@require_POST
def invitation_revoke(request, org, invitation_id):
    invitation = get_object_or_404(Invitation.objects.all(), id=invitation_id)
    flash_outcome(request, lambda: invitations.revoke(invitation), f"Invitation of {invitation.email} withdrawn.")
    return redirect("console:members", org=org)


@requires("members.manage")
@require_POST
def invitation_resend(request, org, invitation_id):
    invitation = get_object_or_404(Invitation.objects.all(), id=invitation_id)
    flash_outcome(request, lambda: invitations.resend(invitation, request=request),
                  f"Invitation of {invitation.email} sent again, with a new link.")
    return redirect("console:members", org=org)


@requires("members.manage")
def member_edit(request, org, membership_id):
    membership = _membership(membership_id)
    data = request.POST if request.method == "POST" else None
    form = MembershipRoleForm(data, initial={"role": membership.role_key})
    if form.is_valid():
        step_up.require_for_role(request, request.access.organisation, form.cleaned_data["role"])
        try:
            actions.change_membership_role(
                membership, role=form.cleaned_data["role"], grantor_grants=request.access.grants
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, f"Role of {membership.user.email} changed.")
            return redirect("console:members", org=org)
    return render(request, "console/member_form.html", {"membership": membership, "form": form})


@requires("members.manage")
@require_POST
def member_remove(request, org, membership_id):
    membership = _membership(membership_id)
    if not flash_outcome(request, lambda: actions.remove_membership(membership, grantor_grants=request.access.grants),
                         f"{membership.user.email} removed."):
        return redirect("console:members", org=org)
    if membership.user_id == request.user.pk and membership.scope == "organisation":
        return redirect("console:home")
    return redirect("console:members", org=org)
