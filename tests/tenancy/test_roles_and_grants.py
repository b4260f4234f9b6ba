"""Roles: built-in and custom, granted on the organisation and overridden on a workspace or project."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from bastion.tenancy import actions, context
from bastion.tenancy.access import Forbidden, NotFound, Unauthenticated, authorize
from bastion.tenancy.models import Membership
from tests.conftest import PASSWORD
from tests.sign_in import accept_invitation


def _grant(ns, user, role, **scope):
    with context.tenant_context(ns.organisation.id):
        return actions.add_membership(ns.organisation, user=user, role=role, **scope)


def test_organisation_role_applies_to_every_project(world):
    access = authorize(world.acme.users["editor"], "acme", "records.edit", project_id=world.acme.other_project.id)
    assert access.project == world.acme.other_project


def test_a_project_grant_overrides_the_organisation_role(world):
    viewer = world.acme.users["viewer"]
    _grant(world.acme, viewer, "editor", project=world.acme.project)
    assert authorize(viewer, "acme", "records.edit", project_id=world.acme.project.id)
    with pytest.raises(Forbidden):
        authorize(viewer, "acme", "records.edit", project_id=world.acme.other_project.id)


def test_a_workspace_grant_can_lower_the_organisation_role(world):
    editor = world.acme.users["editor"]
    _grant(world.acme, editor, "viewer", workspace=world.acme.workspace)
    with pytest.raises(Forbidden):
        authorize(editor, "acme", "records.edit", project_id=world.acme.project.id)


def test_a_member_with_only_a_project_grant_sees_only_that_project(world, django_user_model):
    contractor = django_user_model.objects.create_user(email="contractor@example.com", password="x" * 16)
    _grant(world.acme, contractor, "editor", project=world.acme.project)
    assert authorize(contractor, "acme", "records.edit", project_id=world.acme.project.id)
    with pytest.raises(NotFound):
        authorize(contractor, "acme", "records.view", project_id=world.acme.other_project.id)
    with pytest.raises(Forbidden):
        authorize(contractor, "acme", "members.view")
    access = authorize(contractor, "acme", "workspaces.view")
    assert list(access.visible_projects()) == [world.acme.project]


def test_lower_grants_never_carry_organisation_permissions(world, django_user_model):
    user = django_user_model.objects.create_user(email="ws-admin@example.com", password="x" * 16)
    _grant(world.acme, user, "admin", workspace=world.acme.workspace)
    with pytest.raises(Forbidden):
        authorize(user, "acme", "members.manage")


def test_custom_role_grants_exactly_its_permissions(world, django_user_model):
    auditor = django_user_model.objects.create_user(email="auditor@example.com", password="x" * 16)
    _grant(world.acme, auditor, f"custom:{world.acme.custom_role.id}")
    assert authorize(auditor, "acme", "evidence.view", project_id=world.acme.project.id)
    with pytest.raises(Forbidden):
        authorize(auditor, "acme", "records.edit", project_id=world.acme.project.id)


def test_another_organisations_custom_role_can_not_be_granted(world, django_user_model):
    user = django_user_model.objects.create_user(email="x@example.com", password="x" * 16)
    with pytest.raises(ValidationError) as excinfo:
        _grant(world.acme, user, f"custom:{world.globex.custom_role.id}")
    assert excinfo.value.error_dict["role"][0].code == "unknown_role"


def test_unknown_permissions_are_refused_in_custom_roles(world):
    with context.tenant_context(world.acme.organisation.id), pytest.raises(ValidationError) as excinfo:
        actions.save_role(world.acme.organisation, name="Root", permissions=["records.view", "everything.all"])
    assert excinfo.value.error_dict["permissions"][0].code == "unknown_permission"


def test_inactive_and_anonymous_users_are_unauthenticated(world):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(Unauthenticated):
        authorize(AnonymousUser(), "acme", "organisation.view")
    user = world.acme.users["owner"]
    user.is_active = False
    with pytest.raises(Unauthenticated):
        authorize(user, "acme", "organisation.view")


def test_an_admin_can_not_make_an_owner_nor_remove_one(world, client_for):
    client = client_for(world.acme.users["admin"])
    response = client.post("/api/v1/orgs/acme/members", data=json.dumps({"email": "new@example.com", "role": "owner"}),
                           content_type="application/json")
    assert response.status_code == 422 and response.json()["error"]["fields"]["role"][0]["code"] == "owner_only"
    with context.tenant_context(world.acme.organisation.id):
        owner = Membership.objects.get(user=world.acme.users["owner"])
    assert client.delete(f"/api/v1/orgs/acme/members/{owner.id}").status_code == 422


def test_the_last_owner_can_not_leave(world, client_for):
    client = client_for(world.acme.users["owner"])
    with context.tenant_context(world.acme.organisation.id):
        owner = Membership.objects.get(user=world.acme.users["owner"])
    response = client.patch(f"/api/v1/orgs/acme/members/{owner.id}", data=json.dumps({"role": "admin"}),
                            content_type="application/json")
    assert response.json()["error"]["fields"]["role"][0]["code"] == "last_owner"


def test_admin_manages_members_and_roles_through_the_api(world, client_for, django_user_model):
    client = client_for(world.acme.users["admin"])
    role = client.post("/api/v1/orgs/acme/roles", data=json.dumps({"name": "Importer", "permissions": ["records.view", "records.import"]}),
                       content_type="application/json")
    assert role.status_code == 201, role.content
    member = client.post("/api/v1/orgs/acme/members",
                         data=json.dumps({"email": "importer@example.com", "role": role.json()["id"], "project_id": str(world.acme.project.id)}),
                         content_type="application/json")
    assert member.status_code == 202, member.content  # an invitation: they join by accepting it
    assert member.json() == {"status": "invited", "email": "importer@example.com"}
    importer = django_user_model.objects.create_user(email="importer@example.com", password=PASSWORD,
                                                     email_verified=True)
    assert accept_invitation(client_for(importer), mail.outbox[-1]).status_code == 302
    members = client.get("/api/v1/orgs/acme/members?page_size=200").json()["items"]
    [added] = [m for m in members if m["email"] == "importer@example.com"]
    assert added["scope"] == "project" and added["role_name"] == "Importer"
    assert not any(m["email"].endswith("globex.example") for m in members)
    in_use = client.delete(f"/api/v1/orgs/acme/roles/{role.json()['id'].removeprefix('custom:')}")
    assert in_use.status_code == 422 and in_use.json()["error"]["fields"]["role"][0]["code"] == "role_in_use"


def _json(client, method, url, body=None):
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def test_an_admin_can_not_create_a_role_above_their_own(world, client_for):
    client = client_for(world.acme.users["admin"])
    response = _json(client, "post", "/api/v1/orgs/acme/roles", {"name": "Deleter", "permissions": ["organisation.delete"]})
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["permissions"][0]["code"] == "exceeds_grantor"


def test_an_admin_can_not_grant_a_role_above_their_own(world, client_for, django_user_model):
    with context.tenant_context(world.acme.organisation.id):
        owners_role = actions.save_role(world.acme.organisation, name="Shadow owner", permissions=["organisation.delete"])
    response = _json(client_for(world.acme.users["admin"]), "post", "/api/v1/orgs/acme/members",
                     {"email": "admin@acme.example", "role": f"custom:{owners_role.id}", "project_id": str(world.acme.project.id)})
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["role"][0]["code"] == "exceeds_grantor"


def test_an_editor_promoted_on_a_project_can_not_manage_members(world, client_for):
    _grant(world.acme, world.acme.users["editor"], "admin", project=world.acme.project)
    response = _json(client_for(world.acme.users["editor"]), "post", "/api/v1/orgs/acme/members",
                     {"email": "friend@example.com", "role": "admin"})
    assert response.status_code == 403
