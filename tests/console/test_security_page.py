"""The organisation's security page: MFA policy, single sign-on, domains and the SCIM token, for
its admins only; every change audited as through the API."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from bastion.audit.models import AuditEvent
from bastion.identity.sso.models import SSOConnection, VerifiedDomain
from bastion.tenancy import context
from tests.peers.identity_providers import dns_server
from tests.sign_in import signed_in_with_second_factor

pytestmark = pytest.mark.django_db
PAGE = "/o/acme/security/"


def _admin(world) -> Client:
    client = Client()
    signed_in_with_second_factor(client, world.acme.users["admin"])
    return client


def _mfa_required(world) -> bool:
    with context.tenant_context(world.acme.organisation.id):  # row-level security: read as acme
        world.acme.organisation.refresh_from_db()
    return world.acme.organisation.mfa_required


def _actions(world) -> list[str]:
    with context.tenant_context(world.acme.organisation.id):
        return list(AuditEvent.objects.filter(chain_id=world.acme.organisation.id).values_list("action", flat=True))


def test_only_admins_see_it_and_outsiders_get_nothing(world):
    assert _admin(world).get(PAGE).status_code == 200
    for user, status in ((world.acme.users["editor"], 403), (world.globex.users["owner"], 404)):
        client = Client()
        signed_in_with_second_factor(client, user)
        assert client.get(PAGE).status_code == status
        assert client.post(PAGE + "mfa/", {"mfa_required": "on"}).status_code == status
    assert _mfa_required(world) is False


def test_mfa_policy_and_single_sign_on_are_set_here(world, settings):
    admin = _admin(world)
    assert admin.post(PAGE + "mfa/", {"mfa_required": "on"}).status_code == 302
    assert _mfa_required(world) is True

    saved = admin.post(PAGE + "sso/", {"protocol": "oidc", "default_role": "viewer", "enabled": "on",
                                       "issuer": "https://idp.acme.example", "client_id": "bastion",
                                       "client_secret": "a-secret-that-is-never-shown"})
    assert saved.status_code == 302
    page = admin.get(PAGE)
    assert b"/accounts/oidc/acme/login/callback/" in page.content and b"a-secret-that-is-never-shown" not in page.content
    plain_http = admin.post(PAGE + "sso/", {"protocol": "oidc", "default_role": "viewer", "enabled": "on",
                                            "issuer": "http://idp.example", "client_id": "x"})
    assert plain_http.status_code == 200
    assert [e.code for e in plain_http.context["sso_form"].errors.as_data()["issuer"]] == ["https_required"]
    as_owner = admin.post(PAGE + "sso/", {"protocol": "oidc", "default_role": "owner",
                                          "issuer": "https://idp.acme.example", "client_id": "x"})
    assert "default_role" in as_owner.context["sso_form"].errors  # nobody arrives as an owner
    with context.tenant_context(world.acme.organisation.id):
        assert SSOConnection.objects.get().issuer == "https://idp.acme.example"

    assert admin.post(PAGE + "domains/", {"domain": "acme-corp.example"}).status_code == 302
    with context.tenant_context(world.acme.organisation.id):
        domain = VerifiedDomain.objects.get(domain="acme-corp.example")
    with dns_server({"acme-corp.example": [f"bastion-domain-verification={domain.token}"]}) as nameserver:
        settings.BASTION_DNS_NAMESERVERS = [nameserver]
        assert admin.post(f"{PAGE}domains/{domain.id}/verify/").status_code == 302
    with context.tenant_context(world.acme.organisation.id):
        domain.refresh_from_db()
    assert domain.verified_at is not None
    assert {"organisation.updated", "sso.configured", "sso.domain.added", "sso.domain.verified"} <= set(_actions(world))


def test_a_scim_token_is_shown_once_and_works_until_revoked(world):
    admin = _admin(world)
    made = admin.post(PAGE + "scim-token/")
    token = re.search(rb"bst_[0-9A-Za-z]{12}_[0-9A-Za-z]{46}", made.content).group(0).decode()
    assert token.encode() not in admin.get(PAGE).content  # never again
    scim = Client()
    assert scim.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert admin.post(PAGE + "scim-token/revoke/").status_code == 302
    assert scim.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
