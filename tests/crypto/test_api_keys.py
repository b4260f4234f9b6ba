"""API keys: shown once, stored hashed, scoped, capped by their creator, revocable, audited."""

from __future__ import annotations

import json

from django.test import Client

from bastion.audit.models import AuditEvent
from bastion.crypto import api_keys
from bastion.crypto.models import ApiKey
from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership


def _bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _create(client, scopes, **extra):
    return client.post("/api/v1/orgs/acme/api-keys", content_type="application/json",
                       data=json.dumps({"name": "Reporting job", "scopes": scopes, **extra}))


def test_a_key_is_shown_once_stored_hashed_and_recognisable(world, client_for):
    client = client_for(world.acme.users["admin"])
    response = _create(client, ["records.view"])
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    assert api_keys.PATTERN.fullmatch(token) and api_keys.parse(token)
    assert api_keys.parse(token[:-1] + ("A" if token[-1] != "A" else "B")) is None  # the checksum catches typos
    listed = client.get("/api/v1/orgs/acme/api-keys").json()["items"]
    assert token not in json.dumps(listed)
    assert {k["preview"] for k in listed} >= {f"bst_{token[4:16]}_…"}
    with context.tenant_context(world.acme.organisation.id):
        stored = ApiKey.objects.get(public_id=token[4:16])
        events = list(AuditEvent.objects.filter(chain_id=world.acme.organisation.id, action="api_key.created"))
    assert token[17:57] not in stored.secret_hash and len(stored.secret_hash) == 64
    assert all(token not in json.dumps(e.changes) and token[17:57] not in json.dumps(e.changes) for e in events)


def test_a_key_reads_within_its_scopes_and_nothing_more(world, client):
    url = f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions"
    assert client.get(url, **_bearer(world.acme.api_token)).status_code == 200
    write = client.post(url, data="{}", content_type="application/json", **_bearer(world.acme.api_token))
    assert write.status_code == 403
    assert client.get("/api/v1/orgs/acme/members", **_bearer(world.acme.api_token)).status_code == 403
    assert client.get(f"/api/v1/orgs/globex/projects/{world.globex.project.id}/emissions",
                      **_bearer(world.acme.api_token)).status_code == 404


def test_bad_revoked_and_expired_keys_are_refused(world, client, client_for):
    url = f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions"
    for token in ("bst_nope", world.acme.api_token[:-6] + "000000", world.globex.api_token.replace("bst_", "bst-")):
        assert client.get(url, **_bearer(token)).status_code == 401
    admin = client_for(world.acme.users["admin"])
    assert admin.delete(f"/api/v1/orgs/acme/api-keys/{world.acme.api_key.id}").status_code == 204
    assert client.get(url, **_bearer(world.acme.api_token)).status_code == 401
    token = _create(admin, ["records.view"]).json()["token"]
    with context.tenant_context(world.acme.organisation.id):
        ApiKey.objects.filter(public_id=token[4:16]).update(expires_at="2000-01-01T00:00:00Z")
    assert client.get(url, **_bearer(token)).status_code == 401


def test_a_key_never_holds_more_than_its_creator_does_now(world, client, client_for):
    admin = client_for(world.acme.users["admin"])
    assert _create(admin, ["organisation.delete"]).status_code == 422
    token = _create(admin, ["members.view", "members.manage"]).json()["token"]
    assert client.get("/api/v1/orgs/acme/members", **_bearer(token)).status_code == 200
    with context.tenant_context(world.acme.organisation.id):
        grant = Membership.objects.get(user=world.acme.users["admin"], workspace=None, project=None)
        actions.change_membership_role(grant, role="viewer")
    assert client.get("/api/v1/orgs/acme/members", **_bearer(token)).status_code == 200  # members.view: still held
    added = client.post("/api/v1/orgs/acme/members", content_type="application/json", **_bearer(token),
                        data=json.dumps({"email": "x@example.com", "role": "viewer"}))
    assert added.status_code == 403
    with context.tenant_context(world.acme.organisation.id):
        actions.remove_membership(grant)
    assert client.get("/api/v1/orgs/acme/members", **_bearer(token)).status_code == 401


def test_use_is_recorded_and_audited_as_the_key(world, client_for):
    client = Client(enforce_csrf_checks=True)  # a key carries no ambient credential: no CSRF token needed
    admin = client_for(world.acme.users["admin"])
    token = _create(admin, ["records.view", "records.edit"]).json()["token"]
    response = client.post(f"/api/v1/orgs/acme/projects/{world.acme.project.id}/energy", content_type="application/json",
                           data=json.dumps({"meter": "K-1", "site": "Leeds", "kwh": "5", "source": "grid",
                                            "period_start": "2025-01-01", "period_end": "2025-01-31"}),
                           REMOTE_ADDR="203.0.113.20", **_bearer(token))
    assert response.status_code == 201, response.content
    listed = {k["preview"]: k for k in admin.get("/api/v1/orgs/acme/api-keys").json()["items"]}
    used = listed[f"bst_{token[4:16]}_…"]
    assert used["last_used_ip"] == "203.0.113.20" and used["last_used_at"]
    with context.tenant_context(world.acme.organisation.id):
        [event] = AuditEvent.objects.filter(chain_id=world.acme.organisation.id, action="energy_record.created")
    assert (event.actor_type, event.actor_id, event.actor_label) == ("api_key", token[4:16], "Reporting job")


def test_a_disabled_creators_keys_and_scim_token_stop_working(world):
    """Issue 12, finding 7: disabling an account (not only ending the membership) stops its keys."""
    from bastion.identity.scim import tokens

    owner = world.acme.users["owner"]
    with context.tenant_context(world.acme.organisation.id):
        _scim, scim_token = tokens.create(world.acme.organisation, creator=owner)
    records = f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions"
    assert Client().get(records, **_bearer(world.acme.api_token)).status_code == 200
    assert Client().get("/scim/v2/Users", **_bearer(scim_token)).status_code == 200
    owner.is_active = False
    owner.save()
    assert Client().get(records, **_bearer(world.acme.api_token)).status_code == 401
    assert Client().get("/scim/v2/Users", **_bearer(scim_token)).status_code == 401
    # The outsider's key, made by an owner still active, works as before.
    globex_records = f"/api/v1/orgs/globex/projects/{world.globex.project.id}/emissions"
    assert Client().get(globex_records, **_bearer(world.globex.api_token)).status_code == 200
