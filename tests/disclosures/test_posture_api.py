"""``/api/v1/orgs/{org}/posture``: an organisation's security posture for its admins, and a re-run
that comes back signed with the platform key. An outsider (globex's owner) and platform staff
without a grant get 404; a viewer of acme gets 403."""

from __future__ import annotations

import base64
import json

import pytest
from allauth.mfa.models import Authenticator
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bastion.audit import format as audit_format
from bastion.audit import signing

pytestmark = pytest.mark.django_db


def test_admins_read_their_organisations_posture(world, client_for):
    response = client_for(world.acme.users["owner"]).get("/api/v1/orgs/acme/posture")
    assert response.status_code == 200, response.content
    posture = response.json()
    assert posture["organisation"] == "acme"
    members = posture["mfa"]["members"]
    assert members == len(world.acme.users)
    with_factor = set(Authenticator.objects.filter(user__in=world.acme.users.values(),
                                                   type__in=("totp", "webauthn")).values_list("user_id", flat=True))
    assert posture["mfa"]["members_with_second_factor"] == len(with_factor)
    assert posture["sso"] == {"enabled": False} and posture["scim"] == {"enabled": False}
    assert posture["read_log"]["evidence_downloads"] is True
    assert posture["staff_grants"]["open"] == 0
    assert set(posture) >= {"keys", "audit", "backups", "retention"}
    assert "globex" not in json.dumps(posture)

    # An admin's authenticator deleted: the posture says that admin is not covered.
    Authenticator.objects.filter(user=world.acme.users["owner"]).delete()
    after = client_for(world.acme.users["admin"]).get("/api/v1/orgs/acme/posture").json()
    assert after["mfa"]["all_admins_covered"] is False and after["mfa"]["admins_without_second_factor"] >= 1


def test_a_rerun_is_signed_with_the_platform_key(world, client_for):
    response = client_for(world.acme.users["owner"]).post("/api/v1/orgs/acme/posture/run")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["posture"]["audit"]["verification_now"]["ok"] is True, body["posture"]["audit"]
    public = Ed25519PublicKey.from_public_bytes(signing.public_keys()[body["key_id"]])
    signature = base64.b64decode(body["signature"])
    public.verify(signature, audit_format.canonical(body["posture"]))
    tampered = dict(body["posture"], organisation="globex")
    with pytest.raises(InvalidSignature):
        public.verify(signature, audit_format.canonical(tampered))


def test_outsiders_staff_without_a_grant_and_viewers(world, client_for, django_user_model):
    outsider = client_for(world.globex.users["owner"])
    assert outsider.get("/api/v1/orgs/acme/posture").status_code == 404
    assert outsider.post("/api/v1/orgs/acme/posture/run").status_code == 404
    staff = client_for(django_user_model.objects.create_user(email="support@staff.example", staff_role="support",
                                                             email_verified=True))
    assert staff.get("/api/v1/orgs/acme/posture").status_code == 404
    assert staff.post("/api/v1/orgs/acme/posture/run").status_code == 404
    viewer = client_for(world.acme.users["viewer"])
    assert viewer.get("/api/v1/orgs/acme/posture").status_code == 403
    assert viewer.post("/api/v1/orgs/acme/posture/run").status_code == 403
    # globex's owner reads globex's posture, and it is globex's
    assert outsider.get("/api/v1/orgs/globex/posture").json()["organisation"] == "globex"


def test_a_rerun_answers_each_scoped_check_and_a_broken_control_fails_its_own(world, client_for):
    from bastion.trust import runs

    for role in ("owner", "admin"):  # every owner and admin of acme with a second factor
        if not Authenticator.objects.filter(user=world.acme.users[role]).exists():
            Authenticator.objects.create(user=world.acme.users[role], type=Authenticator.Type.TOTP,
                                         data={"secret": "sealed elsewhere"})
    runs.run_all()  # the platform-wide results the re-run quotes
    owner = client_for(world.acme.users["owner"])
    body = owner.post("/api/v1/orgs/acme/posture/run").json()
    checks = {c["check"]: c for c in body["posture"]["checks"]}
    assert set(checks) == {"identity.mfa_privileged", "keys.age_within_policy", "audit.chain_verified_now",
                           "access_log.chain_verified_now", "backups.recent_and_drilled", "hardening.headers",
                           "hardening.tls_handshake", "database.rls_forced", "privacy.retention_ran"}
    assert checks["audit.chain_verified_now"]["result"] == "pass"
    assert checks["access_log.chain_verified_now"]["result"] == "pass"
    assert body["posture"]["read_log"]["verification_now"]["ok"] is True
    assert checks["backups.recent_and_drilled"]["platform_run"]  # quoted from the last platform run, named so
    assert checks["identity.mfa_privileged"]["result"] == "pass"

    # An admin's authenticator deleted: that check, and only among the organisation's own, fails.
    Authenticator.objects.filter(user=world.acme.users["admin"]).delete()
    after = {c["check"]: c for c in owner.post("/api/v1/orgs/acme/posture/run").json()["posture"]["checks"]}
    assert after["identity.mfa_privileged"]["result"] == "fail"
    assert "without a second factor" in after["identity.mfa_privileged"]["details"]
    assert {k for k in after if after[k]["result"] != checks[k]["result"]} <= {"identity.mfa_privileged"}
