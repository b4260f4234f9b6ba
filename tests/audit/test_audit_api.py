"""Admins browse, export and prove their own log through the API; nobody else sees it."""

from __future__ import annotations

import base64
import json

from bastion.audit import merkle
from bastion.audit.offline import verify_lines


def test_admin_browses_and_filters_their_events(world, client_for):
    client = client_for(world.acme.users["admin"])
    page = client.get("/api/v1/orgs/acme/audit/events?page_size=200").json()
    assert page["count"] >= 10
    assert [e["seq"] for e in page["items"]] == sorted((e["seq"] for e in page["items"]), reverse=True)
    members = client.get("/api/v1/orgs/acme/audit/events?action=member.").json()["items"]
    assert members and all(e["action"].startswith("member.") for e in members)
    assert all("globex" not in json.dumps(e) for e in page["items"])
    by_actor = client.get("/api/v1/orgs/acme/audit/events?actor=nobody@example.com").json()
    assert by_actor["count"] == 0


def test_editors_and_viewers_can_not_read_the_log(world, client_for):
    for role in ("editor", "viewer"):
        assert client_for(world.acme.users[role]).get("/api/v1/orgs/acme/audit/events").status_code == 403


def test_the_downloaded_export_verifies_offline_against_the_published_key(world, client_for, settings):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 3
    client = client_for(world.acme.users["owner"])
    exports_before = client.get("/api/v1/orgs/acme/audit/events?action=audit.exported").json()["count"]
    for i in range(7):
        client.post("/api/v1/orgs/acme/workspaces", data=json.dumps({"name": f"Site {i}"}), content_type="application/json")
    response = client.get("/api/v1/orgs/acme/audit/export")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    lines = b"".join(response.streaming_content).decode().splitlines(keepends=True)
    published = client.get("/api/v1/audit/public-keys").json()["keys"][0]["ed25519"]
    result = verify_lines(lines, public_key=base64.b64decode(published))
    assert result.ok, result.problems
    assert result.checkpoints >= 2
    assert "globex" not in "".join(lines).lower()
    # The export itself is audited.
    assert client.get("/api/v1/orgs/acme/audit/events?action=audit.exported").json()["count"] == exports_before + 1


def test_an_inclusion_proof_checks_out_against_the_signed_root(world, client_for, settings):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 4
    client = client_for(world.acme.users["admin"])
    for i in range(5):
        client.post("/api/v1/orgs/acme/workspaces", data=json.dumps({"name": f"Plant {i}"}), content_type="application/json")
    event = client.get("/api/v1/orgs/acme/audit/events?action=workspace.created").json()["items"][-1]
    proof = client.get(f"/api/v1/orgs/acme/audit/proof?hash={event['hash']}").json()
    assert merkle.verify_inclusion(bytes.fromhex(event["hash"]), event["seq"] - 1, proof["tree_size"],
                                   [bytes.fromhex(p) for p in proof["proof"]], bytes.fromhex(proof["checkpoint"]["root_hash"]))
    assert client.get("/api/v1/orgs/acme/audit/proof?hash=" + "0" * 64).status_code == 404


def test_status_shows_the_last_verification(world, client_for):
    from bastion.commands.audit import verify

    assert verify("acme", out=open("/dev/null", "w"), err=open("/dev/null", "w")) == 0
    status = client_for(world.acme.users["admin"]).get("/api/v1/orgs/acme/audit/status").json()
    assert status["last_verification"]["ok"] is True
    assert status["events"] >= 10
