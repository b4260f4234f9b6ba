"""Second factors (allauth's MFA): TOTP with replay protection, recovery codes, the lockout at the
code step, secrets sealed by the KMS, and the policy that owners, admins and members of an
"MFA required" organisation must enrol."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.tenancy import actions, context
from tests.conftest import PASSWORD
from tests.sign_in import enrol_totp, sign_in, sign_out, signed_in_with_second_factor, totp_code

pytestmark = pytest.mark.django_db
LOCKED = b"Too many failed sign-in attempts"


def _signed_in_client(user) -> Client:
    client = Client()
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    return client


def _events(organisation, action):
    with context.tenant_context(organisation.id):
        return personal.shown(list(AuditEvent.objects.filter(chain_id=organisation.id, action=action)))


def _to_code_step(client, user):
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    return response


def test_totp_is_asked_after_the_password_and_then_signs_in(world):
    editor = world.acme.users["editor"]
    secret = enrol_totp(_signed_in_client(editor), PASSWORD)
    client = Client()
    _to_code_step(client, editor)
    assert client.get(reverse("console:home")).status_code == 302  # not signed in between the steps
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(editor.pk)
    assert _events(world.acme.organisation, "auth.mfa.added")[0].changes["type"] == "totp"
    assert not _events(world.globex.organisation, "auth.mfa.added")


def test_a_used_code_is_refused_within_its_window(world):
    editor = world.acme.users["editor"]
    secret = enrol_totp(_signed_in_client(editor), PASSWORD)
    code = totp_code(secret, steps=1)  # a code not used at enrolment
    first = Client()
    _to_code_step(first, editor)
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    thief = Client()  # someone who watched the code being typed
    _to_code_step(thief, editor)
    replay = thief.post(reverse("mfa_authenticate"), {"code": code})
    assert replay.status_code == 200 and b"Incorrect code" in replay.content
    assert "_auth_user_id" not in thief.session


def test_wrong_codes_lock_the_account_like_wrong_passwords(world):
    editor = world.acme.users["editor"]
    secret = enrol_totp(_signed_in_client(editor), PASSWORD)
    client = Client()
    _to_code_step(client, editor)
    for guess in ("000000", "111111", "222222", "333333", "444444"):
        client.post(reverse("mfa_authenticate"), {"code": guess if guess != totp_code(secret) else "555555"})
    refused = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert refused.status_code == 200 and LOCKED in refused.content
    assert "_auth_user_id" not in client.session
    assert len(_events(world.acme.organisation, "auth.mfa.failed")) == 5
    # The outsider's account is not touched by it.
    assert sign_in(Client(), world.globex.users["editor"].email, PASSWORD).status_code == 302


def test_the_totp_secret_is_stored_sealed(world):
    editor = world.acme.users["editor"]
    secret = enrol_totp(_signed_in_client(editor), PASSWORD)
    stored = Authenticator.objects.get(user=editor, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored and stored != secret
    assert Authenticator.objects.get(user=editor, type=Authenticator.Type.TOTP).wrap().validate_code(
        totp_code(secret, steps=-1))


def test_recovery_codes_are_shown_once_and_each_works_once(world):
    editor = world.acme.users["editor"]
    client = _signed_in_client(editor)
    enrol_totp(client, PASSWORD)
    page = client.get(reverse("mfa_view_recovery_codes"))
    codes = page.context["unused_codes"]
    assert len(codes) == 10 and all(code.isdigit() for code in codes)
    again = client.get(reverse("mfa_view_recovery_codes"))
    assert again.context["unused_codes"] == ["****"] * 10  # shown once; only regenerating shows new ones
    assert not any(code.encode() in again.content for code in codes)
    data = Authenticator.objects.get(user=editor, type=Authenticator.Type.RECOVERY_CODES).data
    assert set(data) == {"hashes", "used_mask", "viewed_at"}  # once shown, only their keyed hashes are kept
    assert all(len(digest) == 64 for digest in data["hashes"])
    assert not any(code in str(data) for code in codes)

    sign_out(client)
    _to_code_step(client, editor)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 302
    sign_out(client)
    _to_code_step(client, editor)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 200


def test_owners_and_admins_must_enrol_before_anything_else(world):
    owner = world.acme.users["owner"]
    client = _signed_in_client(owner)
    dashboard = client.get(reverse("console:dashboard", kwargs={"org": "acme"}))
    assert dashboard.status_code == 302 and dashboard.url == reverse("mfa_index")
    api = client.get("/api/v1/orgs/acme/workspaces")
    assert api.status_code == 403 and api.json()["error"]["code"] == "mfa_enrolment_required"
    enrol_totp(client, PASSWORD)
    assert client.get(reverse("console:dashboard", kwargs={"org": "acme"})).status_code == 200
    assert client.get("/api/v1/orgs/acme/workspaces").status_code == 200


def test_an_organisation_can_require_mfa_of_every_member(world):
    acme = world.acme.organisation
    editor, outsider = world.acme.users["editor"], world.globex.users["editor"]
    assert _signed_in_client(editor).get(reverse("console:dashboard", kwargs={"org": "acme"})).status_code == 200
    admin = Client()
    signed_in_with_second_factor(admin, world.acme.users["admin"])
    response = admin.patch("/api/v1/orgs/acme", {"mfa_required": True}, content_type="application/json")
    assert response.status_code == 200 and response.json()["mfa_required"] is True
    [event] = _events(acme, "organisation.updated")
    assert event.changes == {"mfa_required": [False, True]}

    forced = _signed_in_client(editor).get(reverse("console:dashboard", kwargs={"org": "acme"}))
    assert forced.status_code == 302 and forced.url == reverse("mfa_index")
    # The outsider's organisation has no such policy, and the outsider cannot set acme's.
    assert _signed_in_client(outsider).get(reverse("console:dashboard", kwargs={"org": "globex"})).status_code == 200
    intruder = Client()
    signed_in_with_second_factor(intruder, world.globex.users["owner"])
    assert intruder.patch("/api/v1/orgs/acme", {"mfa_required": False},
                          content_type="application/json").status_code == 404
    viewer = Client()
    signed_in_with_second_factor(viewer, world.acme.users["viewer"])
    assert viewer.patch("/api/v1/orgs/acme", {"mfa_required": False},
                        content_type="application/json").status_code == 403


def test_the_last_second_factor_cannot_be_removed_while_required(world):
    admin = world.acme.users["admin"]
    client = _signed_in_client(admin)
    enrol_totp(client, PASSWORD)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists()
    assert response.status_code == 200 and b"cannot deactivate" in response.content

    editor = world.acme.users["editor"]  # no policy applies to an editor here: they may remove theirs
    client = _signed_in_client(editor)
    enrol_totp(client, PASSWORD)
    assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
    assert not Authenticator.objects.filter(user=editor, type=Authenticator.Type.TOTP).exists()
    assert _events(world.acme.organisation, "auth.mfa.removed")


def test_a_custom_role_that_manages_members_needs_mfa_too(world):
    acme = world.acme.organisation
    user = world.acme.users["viewer"]
    with context.tenant_context(acme.id):
        role = actions.save_role(acme, name="People admin", permissions=["members.view", "members.manage"])
        actions.change_membership_role(world.acme.viewer_membership, role=f"custom:{role.id}")
    forced = _signed_in_client(user).get(reverse("console:dashboard", kwargs={"org": "acme"}))
    assert forced.status_code == 302 and forced.url == reverse("mfa_index")
