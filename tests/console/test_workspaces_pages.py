"""Dashboard, workspaces and projects; error pages; the pages' no-inline-code rule (strict CSP)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

import bastion.console
from bastion.console.middleware import AccessDeniedMiddleware
from bastion.tenancy import actions, context
from bastion.tenancy.models import Project, Workspace

pytestmark = pytest.mark.django_db

TEMPLATES = Path(bastion.console.__file__).parent / "templates"


def test_dashboard_shows_create_form_only_to_managers(client_for, world):
    dashboard = reverse("console:dashboard", kwargs={"org": "acme"})
    viewer_page = client_for(world.acme.users["viewer"]).get(dashboard)
    assert b"Acme Corp UK" in viewer_page.content and b"New workspace" not in viewer_page.content
    assert b">Roles<" not in viewer_page.content and b">Members<" in viewer_page.content
    admin_page = client_for(world.acme.users["admin"]).get(dashboard)
    assert b"New workspace" in admin_page.content and b">Roles<" in admin_page.content


def test_admin_creates_and_renames_a_workspace_and_adds_a_project(client_for, world):
    acme = world.acme
    client = client_for(acme.users["admin"])
    created = client.post(reverse("console:workspace_create", kwargs={"org": "acme"}), {"name": "Acme DE"})
    assert created.status_code == 302
    with context.tenant_context(acme.organisation.id):
        workspace = Workspace.objects.get(name="Acme DE")
    edit = reverse("console:workspace_edit", kwargs={"org": "acme", "workspace_id": workspace.id})
    duplicate = client.post(edit, {"name": "Acme Corp UK"})
    assert duplicate.status_code == 200 and duplicate.context["form"].errors
    assert client.post(edit, {"name": "Acme Germany"}).status_code == 302
    new_project = reverse("console:project_create", kwargs={"org": "acme", "workspace_id": workspace.id})
    assert client.post(new_project, {"name": "FY2025"}).status_code == 302
    with context.tenant_context(acme.organisation.id):
        assert Workspace.objects.get(id=workspace.id).name == "Acme Germany"
        assert Project.objects.filter(workspace=workspace, name="FY2025").exists()
    assert client_for(acme.users["editor"]).post(new_project, {"name": "Sneaky"}).status_code == 403


def test_a_project_member_sees_only_that_project(client_for, world, django_user_model):
    acme = world.acme
    user = django_user_model.objects.create_user(email="contractor@example.com", password="x" * 16)
    with context.tenant_context(acme.organisation.id):
        actions.add_membership(acme.organisation, user=user, role="editor", project=acme.project)
    client = client_for(user)
    workspace = client.get(reverse("console:workspace", kwargs={"org": "acme", "workspace_id": acme.workspace.id}))
    assert b"FY2025 inventory" in workspace.content and b"FY2024 inventory" not in workspace.content
    other = reverse("console:project", kwargs={"org": "acme", "project_id": acme.other_project.id})
    assert client.get(other).status_code == 404


def test_a_validation_error_escaping_a_view_is_a_400_page(world):
    request = RequestFactory().get("/")
    request.user = world.acme.users["viewer"]
    request.session = {}
    response = AccessDeniedMiddleware(lambda r: None).process_exception(
        request, ValidationError("Quantity is not a number.", code="invalid")
    )
    assert response.status_code == 400 and b"Quantity is not a number." in response.content


def test_templates_have_no_inline_script_or_style():
    offending = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script|<style|\sstyle=|\son[a-z]+=|javascript:", text, re.IGNORECASE):
            offending.append(template.name)
    assert offending == []
