"""Members and custom roles: admins manage them, owners alone grant owner, others are refused."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from bastion.tenancy import context
from bastion.tenancy.models import Membership, Role
from tests.sign_in import accept_invitation

pytestmark = pytest.mark.django_db


def org_url(name, org, **kwargs):
    return reverse(f"console:{name}", kwargs={"org": org.slug, **kwargs})


def test_members_page_lists_grants(client_for, world):
    response = client_for(world.acme.users["viewer"]).get(org_url("members", world.acme))
    assert response.status_code == 200
    for role in ("owner", "admin", "editor", "viewer"):
        assert f"{role}@acme.example".encode() in response.content
    assert b"globex" not in response.content
    assert b"Invite a member" not in response.content


def test_admin_creates_a_custom_role_and_assigns_it(client_for, world, django_user_model):
    acme = world.acme
    newcomer = django_user_model.objects.create_user(email="newcomer@example.com", password="x" * 16,
                                                     email_verified=True)
    client = client_for(acme.users["admin"])
    page = client.get(org_url("roles", acme))
    assert b"See emissions and energy records" in page.content  # every permission with its description

    created = client.post(org_url("roles", acme), {
        "name": "Carbon analyst", "description": "Reads records and suppliers",
        "permissions": ["records.view", "suppliers.view", "projects.view"],
    })
    assert created.status_code == 302
    with context.tenant_context(acme.organisation.id):
        role = Role.objects.get(name="Carbon analyst")
    assert role.permissions == ["projects.view", "records.view", "suppliers.view"]

    members_page = client.get(org_url("members", acme))
    assert f'value="custom:{role.id}"'.encode() in members_page.content
    added = client.post(org_url("member_add", acme), {
        "email": "Newcomer@Example.com", "role": f"custom:{role.id}", "scope": f"project:{acme.project.id}",
    })
    assert added.status_code == 302
    with context.tenant_context(acme.organisation.id):
        assert not Membership.objects.filter(user=newcomer).exists()  # invited, not yet a member
    assert accept_invitation(client_for(newcomer), mail.outbox[-1]).status_code == 302
    with context.tenant_context(acme.organisation.id):
        grant = Membership.objects.get(user=newcomer)
    assert grant.custom_role_id == role.id and grant.project_id == acme.project.id

    # The custom role works: records yes, record editing no.
    analyst = client_for(newcomer)
    project = reverse("console:project", kwargs={"org": "acme", "project_id": acme.project.id})
    assert analyst.get(project).status_code == 200
    assert analyst.get(project + "emissions/new/").status_code == 403

    # A role still granted cannot be deleted.
    refused = client.post(org_url("role_delete", acme, role_id=role.id), follow=True)
    assert b"still granted" in refused.content
    with context.tenant_context(acme.organisation.id):
        assert Role.objects.filter(id=role.id).exists()


def test_role_edit_and_unknown_user(client_for, world):
    acme = world.acme
    client = client_for(acme.users["admin"])
    edit = org_url("role_edit", acme, role_id=acme.custom_role.id)
    assert client.get(edit).status_code == 200
    assert client.post(edit, {"name": "Auditor", "permissions": ["records.view"]}).status_code == 302
    with context.tenant_context(acme.organisation.id):
        acme.custom_role.refresh_from_db()
    assert acme.custom_role.permissions == ["records.view"]

    # An unknown address is invited like a known one: the page does not tell them apart.
    unknown = client.post(org_url("member_add", acme), {"email": "nobody@example.com", "role": "viewer", "scope": ""},
                          follow=True)
    known = client.post(org_url("member_add", acme), {"email": "owner@globex.example", "role": "viewer", "scope": ""},
                        follow=True)
    assert unknown.status_code == known.status_code == 200
    assert [str(m) for m in unknown.context["messages"]][-1] == [
        str(m).replace("owner@globex.example", "nobody@example.com") for m in known.context["messages"]][-1]
    with context.tenant_context(acme.organisation.id):
        assert not Membership.objects.filter(user__email="owner@globex.example").exists()


def test_only_an_owner_grants_owner(client_for, world):
    acme = world.acme
    target = org_url("member_edit", acme, membership_id=acme.viewer_membership.id)
    refused = client_for(acme.users["admin"]).post(target, {"role": "owner"})
    assert refused.status_code == 200 and refused.context["form"].has_error("role", "owner_only")
    assert client_for(acme.users["owner"]).post(target, {"role": "editor"}).status_code == 302
    with context.tenant_context(acme.organisation.id):
        assert Membership.objects.get(id=acme.viewer_membership.id).builtin_role == "editor"


def test_remove_member_and_refusals(client_for, world):
    acme = world.acme
    target = org_url("member_remove", acme, membership_id=acme.viewer_membership.id)
    assert client_for(acme.users["editor"]).post(target).status_code == 403
    assert client_for(acme.users["admin"]).get(org_url("roles", acme)).status_code == 200
    assert client_for(acme.users["editor"]).get(org_url("roles", acme)).status_code == 403
    assert client_for(acme.users["admin"]).post(target).status_code == 302
    with context.tenant_context(acme.organisation.id):
        assert not Membership.objects.filter(id=acme.viewer_membership.id).exists()
    # The removed viewer no longer sees acme at all.
    assert client_for(acme.users["viewer"]).get(org_url("dashboard", acme)).status_code == 404


def test_globex_ids_are_404_in_acme(client_for, world):
    acme, globex = world.acme, world.globex
    client = client_for(acme.users["owner"])
    assert client.get(org_url("member_edit", acme, membership_id=globex.viewer_membership.id)).status_code == 404
    assert client.get(org_url("role_edit", acme, role_id=globex.custom_role.id)).status_code == 404
    assert client.post(org_url("role_delete", acme, role_id=globex.custom_role.id)).status_code == 404
