"""The organisation's dashboard (its workspaces), a workspace (its projects), creating and renaming."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bastion.console.forms import NameForm, add_action_errors
from bastion.console.views import emissions_totals
from bastion.tenancy import actions
from bastion.tenancy.access import requires


@requires("workspaces.view")
def dashboard(request, org):
    access = request.access
    return render(request, "console/dashboard.html", {
        "workspaces": list(access.visible_workspaces().order_by("name")),
        "form": NameForm() if access.can("workspaces.manage") else None,
    })


@requires("workspaces.manage")
@require_POST
def workspace_create(request, org):
    access = request.access
    form = NameForm(request.POST)
    if form.is_valid():
        try:
            workspace = actions.create_workspace(access.organisation, **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, f"Workspace “{workspace.name}” created.")
            return redirect("console:workspace", org=org, workspace_id=workspace.id)
    return render(request, "console/dashboard.html", {
        "workspaces": list(access.visible_workspaces().order_by("name")),
        "form": form,
    })


@requires("workspaces.view")
def workspace(request, org, workspace_id):
    access = request.access
    return render(request, "console/workspace.html", {
        "workspace": access.workspace,
        "projects": list(access.visible_projects(access.workspace)),
        "form": NameForm() if access.can("projects.manage") else None,
        **emissions_totals.workspace_context(request),
    })


@requires("projects.manage")
@require_POST
def project_create(request, org, workspace_id):
    access = request.access
    form = NameForm(request.POST)
    if form.is_valid():
        try:
            project = actions.create_project(access.workspace, **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("console:project", org=org, project_id=project.id)
    return render(request, "console/workspace.html", {
        "workspace": access.workspace,
        "projects": list(access.visible_projects(access.workspace)),
        "form": form,
    })


@requires("workspaces.manage")
def workspace_edit(request, org, workspace_id):
    workspace = request.access.workspace
    data = request.POST if request.method == "POST" else None
    form = NameForm(data, initial={"name": workspace.name, "description": workspace.description})
    if form.is_valid():
        try:
            actions.update_workspace(workspace, **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
            workspace.refresh_from_db()
        else:
            messages.success(request, "Workspace saved.")
            return redirect("console:workspace", org=org, workspace_id=workspace.id)
    return render(request, "console/workspace_edit.html", {"workspace": workspace, "form": form})
