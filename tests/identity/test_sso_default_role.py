"""SSO's default role is granted on behalf of whoever configured it, never beyond what they hold.
Issue 12, finding 3: a custom role that could not add members set ``default_role=admin`` with its
own IdP and domain."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.identity.sso import social_adapter
from bastion.identity.sso.models import SSOConnection
from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
OIDC = {"protocol": "oidc", "issuer": "https://idp.acme-corp.example", "client_id": "bastion",
        "client_secret": "s3cret"}


def _put(client, body):
    return client.put("/api/v1/orgs/acme/sso", json.dumps(body), content_type="application/json")


def _settings_manager(world):
    """A member whose custom role may change the organisation's settings, but not add members."""
    user = world.acme.users["editor"]
    with context.tenant_context(world.acme.organisation.id):
        role = actions.save_role(world.acme.organisation, name="Settings",
                                 permissions=["organisation.view", "organisation.manage"])
        actions.change_membership_role(Membership.objects.get(user=user, workspace=None, project=None),
                                       role=f"custom:{role.id}")
    return user


def test_a_role_that_cannot_add_members_cannot_make_sso_add_admins(world, client_for):
    client = client_for(_settings_manager(world))
    for role in ("admin", "viewer"):
        refused = _put(client, {**OIDC, "default_role": role})
        assert refused.status_code == 422, refused.content
        assert refused.json()["error"]["fields"]["role"][0]["code"] == "exceeds_grantor"
    with context.tenant_context(world.acme.organisation.id):
        assert not SSOConnection.objects.exists()
    # Nor can anyone reach another organisation's connection.
    assert _put(client_for(world.globex.users["owner"]), {**OIDC, "default_role": "viewer"}).status_code == 404


def test_an_admin_may_not_hand_out_more_than_admin_and_is_recorded_as_grantor(world, client_for):
    admin = world.acme.users["admin"]
    client = client_for(admin)
    assert _put(client, {**OIDC, "default_role": "owner"}).status_code == 422
    saved = _put(client, {**OIDC, "default_role": "admin"})
    assert saved.status_code == 200, saved.content
    with context.tenant_context(world.acme.organisation.id):
        connection = SSOConnection.objects.get()
        assert connection.configured_by_id == admin.pk
        event = personal.shown_one(AuditEvent.objects.filter(chain_id=world.acme.organisation.id,
                                                             action="sso.configured").last())
    assert event.changes["configured_by"] == admin.email and event.changes["default_role"] == "admin"


def test_provisioning_applies_the_grantor_rule_at_each_sign_in(world, client_for):
    admin = world.acme.users["admin"]
    assert _put(client_for(admin), {**OIDC, "default_role": "admin"}).status_code == 200
    with context.tenant_context(world.acme.organisation.id):
        connection = SSOConnection.objects.get()
        assert social_adapter.provisioning_refusal(connection) is None
        # The admin who vouched for "admin" is demoted: the connection no longer makes admins.
        actions.change_membership_role(Membership.objects.get(user=admin, workspace=None, project=None), role="editor")
    assert social_adapter.provisioning_refusal(connection) == "default_role_exceeds_grantor"
    newcomer = get_user_model().objects.create_user(email="new@acme-claimed.example", password=PASSWORD)
    with pytest.raises(ValidationError):
        social_adapter.provision(connection, newcomer)
    with context.tenant_context(world.acme.organisation.id):
        assert not Membership.objects.filter(user=newcomer).exists()
