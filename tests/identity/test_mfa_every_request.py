"""MFA follows the user's current roles on every request, and the actions that hand out lasting
power need a second factor used just now (step-up). Issue 12, findings 1 and 2: each test does
what the review did, from a password-only session or an old one."""

from __future__ import annotations

import json

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from bastion.crypto.models import ApiKey
from bastion.identity.mfa import policy as mfa_policy
from bastion.identity.models import ScimToken
from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership, Organisation
from bastion.tenancy.permissions import (
    ADMIN_GRADE,
    BUILTIN_ROLES,
    ORGANISATION_ONLY,
    ORGANISATION_READ_ONLY,
    PERMISSIONS,
)
from tests.conftest import PASSWORD
from tests.sign_in import sign_in, signed_in_with_second_factor, totp_code

pytestmark = pytest.mark.django_db
KEY = {"name": "forever", "scopes": ["records.view", "members.manage"], "expires_in_days": 366}


def _password_only(user) -> Client:
    client = Client()
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 302 and response.url != reverse("mfa_authenticate")
    return client


def _post(client, url, body=None, method="post"):
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


def _code(response) -> str:
    return response.json()["error"]["code"]


def _grant(org_ns, user, role):
    with context.tenant_context(org_ns.organisation.id):
        membership = Membership.objects.get(user=user, workspace=None, project=None)
        actions.change_membership_role(membership, role=role)


def test_a_viewer_promoted_mid_session_is_confined_at_the_next_request(world):
    viewer = world.acme.users["viewer"]
    client = _password_only(viewer)
    assert client.get("/api/v1/orgs/acme/workspaces").status_code == 200
    _grant(world.acme, viewer, "admin")  # by another admin, while the viewer's session goes on

    for attempt in (client.get("/api/v1/orgs/acme/members"),
                    _post(client, "/api/v1/orgs/acme/api-keys", KEY),
                    _post(client, "/api/v1/orgs/acme/scim-token"),
                    _post(client, "/api/v1/orgs/acme", {"mfa_required": False}, method="patch")):
        assert attempt.status_code == 403 and _code(attempt) == "mfa_enrolment_required"
    page = client.get(reverse("console:members", kwargs={"org": "acme"}))
    assert page.status_code == 302 and page.url == reverse("mfa_index")
    with context.tenant_context(world.acme.organisation.id):
        assert not ApiKey.objects.filter(name="forever").exists() and not ScimToken.objects.exists()
    # Demoted again: free to go about as a viewer, without signing in again.
    _grant(world.acme, viewer, "viewer")
    assert client.get("/api/v1/orgs/acme/workspaces").status_code == 200
    # The outsider's session was never touched by any of it.
    assert _password_only(world.globex.users["viewer"]).get("/api/v1/orgs/globex/workspaces").status_code == 200


def test_founding_an_organisation_confines_the_founder_at_once(world):
    founder = world.acme.users["editor"]
    client = _password_only(founder)
    assert _post(client, "/api/v1/orgs", {"name": "Shell Co", "slug": "shell"}).status_code == 201
    for attempt in (_post(client, "/api/v1/orgs/shell/api-keys", KEY),
                    _post(client, "/api/v1/orgs/shell/scim-token"),
                    _post(client, "/api/v1/orgs/shell", {"mfa_required": False}, method="patch"),
                    client.get("/api/v1/orgs/acme/workspaces")):
        assert attempt.status_code == 403 and _code(attempt) == "mfa_enrolment_required"
    assert client.get(reverse("mfa_index")).status_code == 200  # where they may go: enrolment


@pytest.mark.parametrize("permission", sorted(ADMIN_GRADE))
def test_an_admin_grade_custom_role_is_held_to_mfa(world, permission):
    editor = world.acme.users["editor"]
    with context.tenant_context(world.acme.organisation.id):
        role = actions.save_role(world.acme.organisation, name=f"Only {permission}",
                                 permissions=["organisation.view", permission])
    _grant(world.acme, editor, f"custom:{role.id}")
    refused = _password_only(editor).get("/api/v1/orgs/acme")
    assert refused.status_code == 403 and _code(refused) == "mfa_enrolment_required"


def test_every_permission_is_classified_and_only_read_only_ones_skip_mfa(world):
    """A new permission must be placed: an organisation-wide one requires MFA unless it is listed
    as read-only; a permission that can be granted lower down (a workspace or project) does not."""
    assert ORGANISATION_READ_ONLY <= ORGANISATION_ONLY and ADMIN_GRADE == ORGANISATION_ONLY - ORGANISATION_READ_ONLY
    assert {"organisation.manage", "apikeys.manage", "credentials.manage", "audit.export", "members.manage",
            "roles.manage", "organisation.delete"} <= ADMIN_GRADE
    user = get_user_model().objects.create_user(email="probe@acme.example", password=PASSWORD, email_verified=True)
    with context.tenant_context(world.acme.organisation.id):
        membership = actions.add_membership(world.acme.organisation, user=user, role="viewer")
        for permission in PERMISSIONS:
            role = actions.save_role(world.acme.organisation, name=f"probe {permission}", permissions=[permission])
            actions.change_membership_role(membership, role=f"custom:{role.id}")
            user.refresh_from_db()
            assert mfa_policy.mfa_required_for(user) is (permission in ADMIN_GRADE), permission
            actions.change_membership_role(membership, role="viewer")


def _with_known_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _age_second_factor(client, seconds: int) -> None:
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [{**r, "at": r["at"] - seconds} for r in records]
    session.save()


def test_sensitive_actions_need_a_second_factor_used_just_now(world, settings):
    admin = world.acme.users["admin"]
    secret = _with_known_totp(admin)
    client = signed_in_with_second_factor(Client(), admin)
    _age_second_factor(client, settings.BASTION_STEP_UP_SECONDS + 5)

    with context.tenant_context(world.acme.organisation.id):
        admin_grade = actions.save_role(world.acme.organisation, name="Key master",
                                        permissions=["organisation.view", "apikeys.manage"])
    stale = [
        _post(client, "/api/v1/orgs/acme/api-keys", KEY),
        _post(client, "/api/v1/orgs/acme/scim-token"),
        _post(client, "/api/v1/orgs/acme", {"mfa_required": True}, method="patch"),
        _post(client, "/api/v1/orgs/acme/sso", {"protocol": "oidc", "issuer": "https://idp.example",
                                                "client_id": "x", "client_secret": "y"}, method="put"),
        _post(client, "/api/v1/orgs/acme/sso/domains", {"domain": "acme-new.example"}),
        _post(client, "/api/v1/orgs/acme/members", {"email": "newadmin@acme.example", "role": "admin"}),
        _post(client, f"/api/v1/orgs/acme/members/{world.acme.viewer_membership.id}", {"role": "admin"},
              method="patch"),
        _post(client, f"/api/v1/orgs/acme/members/{world.acme.viewer_membership.id}",
              {"role": f"custom:{admin_grade.id}"}, method="patch"),
        _post(client, "/api/v1/orgs/acme/roles", {"name": "Shadow admin", "permissions": ["members.manage"]}),
    ]
    owner = signed_in_with_second_factor(Client(), world.acme.users["owner"])
    _age_second_factor(owner, settings.BASTION_STEP_UP_SECONDS + 5)
    stale.append(owner.delete("/api/v1/orgs/acme"))
    assert [(r.status_code, _code(r)) for r in stale] == [(403, "step_up_required")] * len(stale)
    # Not admin-grade: no step-up needed.
    assert _post(client, f"/api/v1/orgs/acme/members/{world.acme.viewer_membership.id}", {"role": "editor"},
                 method="patch").status_code == 200
    # The console sends the admin to confirm their second factor, then back to the page.
    page = reverse("console:security", kwargs={"org": "acme"})
    sent = client.post(reverse("console:security_scim_token", kwargs={"org": "acme"}), HTTP_REFERER=f"http://testserver{page}")
    assert sent.status_code == 302 and sent.url.startswith("/accounts/2fa/reauthenticate/?next=")
    with context.tenant_context(world.acme.organisation.id):
        assert not ScimToken.objects.exists() and not ApiKey.objects.filter(name="forever").exists()
        assert Organisation.objects.get(id=world.acme.organisation.id).mfa_required is False

    assert client.post(reverse("mfa_reauthenticate"), {"code": totp_code(secret)}).status_code == 302
    assert _post(client, "/api/v1/orgs/acme/api-keys", KEY).status_code == 201
    assert _post(client, "/api/v1/orgs/acme/scim-token").status_code == 201


def test_a_password_reauthentication_is_not_a_step_up(world, settings):
    admin = world.acme.users["admin"]
    _with_known_totp(admin)
    client = signed_in_with_second_factor(Client(), admin)
    _age_second_factor(client, settings.BASTION_STEP_UP_SECONDS + 5)
    assert client.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302
    refused = _post(client, "/api/v1/orgs/acme/api-keys", KEY)
    assert refused.status_code == 403 and _code(refused) == "step_up_required"


def test_an_api_key_can_not_grant_admin_roles(world):
    from bastion.tenancy.api_keys import create as create_api_key

    with context.tenant_context(world.acme.organisation.id):
        grants = list(Membership.objects.filter(user=world.acme.users["owner"]))
        scopes = sorted(BUILTIN_ROLES["editor"] | {"members.manage"})
        _key, token = create_api_key(world.acme.organisation, name="automation", scopes=scopes, expires_in_days=30,
                                     creator=world.acme.users["owner"], creator_grants=grants)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = f"/api/v1/orgs/acme/members/{world.acme.viewer_membership.id}"
    refused = Client().patch(url, json.dumps({"role": "admin"}), content_type="application/json", **bearer)
    assert refused.status_code == 403 and _code(refused) == "step_up_required"
    allowed = Client().patch(url, json.dumps({"role": "editor"}), content_type="application/json", **bearer)
    assert allowed.status_code == 200
    outsider = Client().get("/api/v1/orgs/globex/members", **bearer)
    assert outsider.status_code == 404


def test_the_policy_is_cached_per_session_until_access_changes(world):
    editor = world.acme.users["editor"]
    client = _password_only(editor)
    client.get("/api/v1/orgs/acme/workspaces")
    version = get_user_model().objects.get(pk=editor.pk).access_version
    client.get("/api/v1/orgs/acme/workspaces")
    assert client.session[mfa_policy.SESSION_KEY] == [version, False]
    with context.tenant_context(world.acme.organisation.id):
        actions.update_organisation(world.acme.organisation, mfa_required=True)
    assert get_user_model().objects.get(pk=editor.pk).access_version > version
    assert _code(client.get("/api/v1/orgs/acme/workspaces")) == "mfa_enrolment_required"
