"""The credentials vault: third-party secrets go in once, are stored encrypted, never come back
out in a response, rotate, and every use is audited."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.crypto import rotation
from bastion.crypto.models import Credential
from bastion.tenancy import context, credentials

ACCESS = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
REFRESH = "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169"


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _stored_columns(credential_id) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret, refresh_token FROM crypto_credential WHERE id = %s",
                       [credential_id.hex if connection.vendor == "sqlite" else credential_id])
        return cursor.fetchone()


def _events(ns, action):
    with context.tenant_context(ns.organisation.id):
        return personal.shown(list(AuditEvent.objects.filter(chain_id=ns.organisation.id, action=action).order_by("seq")))


def _store(client):
    response = _post(client, "/api/v1/orgs/acme/credentials",
                     {"name": "GitHub (ci)", "service": "GitHub", "kind": "oauth", "secret": ACCESS,
                      "refresh_token": REFRESH, "expires_at": "2027-01-01T00:00:00Z"})
    assert response.status_code == 201, response.content
    return response


def test_a_stored_credential_is_encrypted_and_shown_only_as_a_preview(world, client_for):
    admin = client_for(world.acme.users["admin"])
    response = _store(admin)
    body = response.json()
    assert body["preview"] == "…8B4a" and body["has_refresh_token"] and body["service"] == "github"
    for answer in (response, admin.get(f"/api/v1/orgs/acme/credentials/{body['id']}"),
                   admin.get("/api/v1/orgs/acme/credentials")):
        assert answer.status_code == 200 or answer.status_code == 201
        assert ACCESS not in answer.content.decode() and REFRESH not in answer.content.decode()
        assert "secret" not in json.dumps(answer.json()).replace("\"preview\"", "")
    with context.tenant_context(world.acme.organisation.id):
        secret_column, refresh_column = _stored_columns(Credential.objects.get(id=body["id"]).id)
    assert secret_column.startswith("QkUx") and refresh_column.startswith("QkUx")  # the BE1 envelope
    assert "gho_" not in secret_column and "ghr_" not in refresh_column
    (event,) = _events(world.acme, "credential.stored")[-1:]
    assert event.changes["name"] == "GitHub (ci)" and ACCESS not in json.dumps(event.changes)


def test_only_credential_managers_of_the_organisation_reach_the_vault(world, client_for):
    url = f"/api/v1/orgs/acme/credentials/{world.acme.credential.id}"
    for role in ("editor", "viewer"):
        assert client_for(world.acme.users[role]).get(url).status_code == 403
    outsider = client_for(world.globex.users["owner"])
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"/api/v1/orgs/globex/credentials/{world.acme.credential.id}").status_code == 404
    assert [c["name"] for c in outsider.get("/api/v1/orgs/globex/credentials").json()["items"]] == ["GitHub"]


def test_rotation_replaces_the_secret_and_is_audited(world, client_for):
    admin = client_for(world.acme.users["owner"])
    url = f"/api/v1/orgs/acme/credentials/{world.acme.credential.id}"
    rotated = _post(admin, url + "/rotate", {"secret": "gho_RotatedAccessToken_000000000000wxyz"})
    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["version"] == 2 and rotated.json()["preview"] == "…wxyz"
    assert rotated.json()["has_refresh_token"] is False and rotated.json()["rotated_at"]
    with context.tenant_context(world.acme.organisation.id):
        assert Credential.objects.get(id=world.acme.credential.id).secret == "gho_RotatedAccessToken_000000000000wxyz"
    assert _events(world.acme, "credential.rotated")[-1].changes["version"] == 2


def test_every_use_is_audited_with_its_purpose(world):
    with context.tenant_context(world.acme.organisation.id), transaction.atomic():
        credential = Credential.objects.get(id=world.acme.credential.id)
        with credentials.use(credential, purpose="sync repositories") as opened:
            assert opened.secret == "gho_acmeAccessTokenSecret0123456789"
        with pytest.raises(ValueError):
            with credentials.use(credential, purpose=" "):
                pass
    (event,) = _events(world.acme, "credential.used")
    assert event.changes == {"name": "GitHub", "service": "github", "purpose": "sync repositories"}
    assert _events(world.globex, "credential.used") == []


def test_bad_input_is_a_clear_error_and_stores_nothing(world, client_for):
    admin = client_for(world.acme.users["admin"])
    url = "/api/v1/orgs/acme/credentials"
    cases = [
        {"name": "K", "service": "stripe", "kind": "api_key", "secret": "sk_live_x", "refresh_token": "r"},  # not oauth
        {"name": "K", "service": "stripe", "kind": "api_key", "secret": "   "},
        {"name": "K", "service": "stripe", "kind": "certificate", "secret": "abc"},
        {"name": "GitHub", "service": "github", "kind": "oauth", "secret": "another"},  # duplicate name
        {"name": "K", "service": "x", "kind": "api_key", "secret": "abc", "expires_at": "0128-07-27T00:49:00+16:00"},
        {"name": "K", "service": "x", "kind": "api_key", "secret": "abc", "expires_at": "2030-01-01T00:00:00"},
    ]
    for body in cases:
        response = _post(admin, url, body)
        assert response.status_code in (400, 409, 422), (body, response.content)
        assert set(response.json()["error"]) >= {"code", "message", "fields"}
    assert [c["name"] for c in admin.get(url).json()["items"]] == ["GitHub"]


def test_deleting_a_credential_is_audited(world, client_for):
    admin = client_for(world.acme.users["admin"])
    assert admin.delete(f"/api/v1/orgs/acme/credentials/{world.acme.credential.id}").status_code == 204
    assert admin.get("/api/v1/orgs/acme/credentials").json()["items"] == []
    assert _events(world.acme, "credential.deleted")[-1].changes["name"] == "GitHub"


def test_key_rotation_covers_the_vault():
    assert Credential in [model for model, _ in rotation.encrypted_models()]
