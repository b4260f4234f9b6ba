"""A change to what someone may do takes effect on their very next request, whatever a request
before it loaded: a removed membership turns 200 into 404, a lowered role turns a write into 403."""

from __future__ import annotations

import json

from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership


def _list(client, world):
    return client.get(f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions")


def test_a_removed_membership_is_refused_on_the_next_request(world, client_for):
    editor = world.acme.users["editor"]
    client = client_for(editor)
    assert _list(client, world).status_code == 200
    with context.tenant_context(world.acme.organisation.id):
        for membership in Membership.objects.filter(user=editor):
            actions.remove_membership(membership)
    refused = _list(client, world)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    # The outsider never saw anything either.
    assert _list(client_for(world.globex.users["admin"]), world).status_code == 404


def test_a_lowered_role_is_refused_on_the_next_request(world, client_for):
    admin = world.acme.users["admin"]
    client = client_for(admin)
    created = client.post(
        "/api/v1/orgs/acme/workspaces", json.dumps({"name": "Before"}), content_type="application/json"
    )
    assert created.status_code == 201
    with context.tenant_context(world.acme.organisation.id):
        membership = Membership.objects.get(user=admin, workspace=None, project=None)
        actions.change_membership_role(membership, role="viewer")
    refused = client.post(
        "/api/v1/orgs/acme/workspaces", json.dumps({"name": "After"}), content_type="application/json"
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
