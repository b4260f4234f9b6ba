"""Custom roles: named sets of permissions defined by the organisation's admins."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bastion.console.forms import RoleForm, add_action_errors
from bastion.console.views import flash_outcome
from bastion.identity.mfa import step_up
from bastion.tenancy import actions
from bastion.tenancy.access import requires
from bastion.tenancy.models import Role
from bastion.tenancy.permissions import BUILTIN_ROLE_NAMES, BUILTIN_ROLES, PERMISSIONS


def _role(role_id) -> Role:
    return get_object_or_404(Role.objects.all(), id=role_id)


def _save(request, form: RoleForm, role: Role | None) -> Role | None:
    step_up.require_for_permissions(request, form.cleaned_data["permissions"])
    try:
        return actions.save_role(
            request.access.organisation, role=role, grantor_grants=request.access.grants, **form.cleaned_data
        )
    except ValidationError as error:
        add_action_errors(form, error)
        return None


@requires("roles.manage")
def roles(request, org):
    form = RoleForm(request.POST if request.method == "POST" else None)
    if form.is_valid() and (role := _save(request, form, None)):
        messages.success(request, f"Role “{role.name}” created.")
        return redirect("console:roles", org=org)
    builtin = [
        {"name": BUILTIN_ROLE_NAMES[key], "permissions": [p for p in PERMISSIONS if p in BUILTIN_ROLES[key]]}
        for key in BUILTIN_ROLE_NAMES
    ]
    return render(request, "console/roles.html", {"roles": list(Role.objects.all()), "builtin": builtin, "form": form})


@requires("roles.manage")
def role_edit(request, org, role_id):
    role = _role(role_id)
    initial = {"name": role.name, "description": role.description, "permissions": role.permissions}
    form = RoleForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid() and _save(request, form, role):
        messages.success(request, f"Role “{role.name}” saved.")
        return redirect("console:roles", org=org)
    # Fetched again: a rejected save has already set the submitted values on ``role``.
    return render(request, "console/role_form.html", {"role": _role(role_id), "form": form})


@requires("roles.manage")
@require_POST
def role_delete(request, org, role_id):
    role = _role(role_id)
    flash_outcome(request, lambda: actions.delete_role(role, grantor_grants=request.access.grants),
                  f"Role “{role.name}” deleted.")
    return redirect("console:roles", org=org)
