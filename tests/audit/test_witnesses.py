"""Customer-held witnesses: an organisation's admins register a webhook (HMAC-signed, retried with
backoff, every delivery audited) or an email address, and every new signed checkpoint reaches them;
members fetch the latest checkpoint and consistency proofs. Against a real HTTP server."""

from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from bastion.audit import merkle
from bastion.audit.checkpoints import checkpoint_due
from bastion.audit.models import AuditEvent
from bastion.audit.offline import load_trusted_checkpoint
from bastion.db.rls import set_setting
from bastion.tenancy.witnesses import deliver_due, verify_signature


class Receiver(BaseHTTPRequestHandler):
    """A customer's webhook: answers ``failures`` requests with 500, then 204; keeps what it got."""

    received: list = []
    failures = 0

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        if Receiver.failures > 0:
            Receiver.failures -= 1
            self.send_response(500)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    settings.BASTION_AUDIT_WITNESS_ALLOW_HTTP = True
    settings.BASTION_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the receiver runs on this machine
    Receiver.received, Receiver.failures = [], 0
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/bastion-checkpoints"
    server.shutdown()
    server.server_close()


def later(seconds: float):
    return lambda: timezone.now() + datetime.timedelta(seconds=seconds)


def _to(run, witness_id) -> list[int]:
    """The tree sizes a delivery run gave one witness (globex's witness gets its own checkpoints too)."""
    return [size for witness, size in run.delivered if witness == str(witness_id)]


def _post(client, path, payload):
    return client.post(path, data=json.dumps(payload), content_type="application/json")


def _new_checkpoint(world):
    """Something happens in acme, and the periodic job signs it a minute later."""
    client_workspace = world.acme.organisation
    from bastion.tenancy import actions, context

    with context.tenant_context(client_workspace.id):
        actions.create_workspace(client_workspace, name=f"Site {timezone.now().timestamp()}")
    assert str(world.acme.organisation.id) in checkpoint_due(later(60))


def _platform_events(action: str) -> list[AuditEvent]:
    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        return list(AuditEvent.objects.filter(chain_id="00000000-0000-0000-0000-000000000000", action=action))


def test_a_webhook_receives_every_new_checkpoint_signed_with_its_secret(world, client_for, receiver, caplog):
    admin = client_for(world.acme.users["admin"])
    created = _post(admin, "/api/v1/orgs/acme/audit/witnesses", {"kind": "webhook", "url": receiver})
    assert created.status_code == 201, created.content
    secret, webhook = created.json()["secret"], created.json()["id"]
    assert secret.startswith("whsec_") and len(secret) > 40
    listed = admin.get("/api/v1/orgs/acme/audit/witnesses").json()
    assert [(w["kind"], w["url"]) for w in listed] == [("email", ""), ("webhook", receiver)]
    assert all(w["secret"] is None for w in listed)

    _new_checkpoint(world)
    run = deliver_due()
    assert run.failed == [] and len(_to(run, webhook)) == 1 and len(_to(run, world.acme.witness.id)) == 1
    [(headers, body)] = Receiver.received
    assert verify_signature(secret, headers["X-Bastion-Timestamp"], body, headers["X-Bastion-Signature"])
    assert not verify_signature("whsec_wrong", headers["X-Bastion-Timestamp"], body, headers["X-Bastion-Signature"])
    record = load_trusted_checkpoint(body.decode())  # what the customer keeps for bastion-verify
    assert record["body"]["chain"] == str(world.acme.organisation.id)

    assert deliver_due().delivered == []  # nothing new
    _new_checkpoint(world)
    assert len(_to(deliver_due(), webhook)) == 1 and len(Receiver.received) == 2

    delivered = [e for e in _platform_events("audit.witness.delivered") if e.changes["kind"] == "webhook"]
    assert len(delivered) == 2 and delivered[0].changes["organisation_id"] == str(world.acme.organisation.id)
    with transaction.atomic():
        set_setting("bastion.org_id", str(world.acme.organisation.id))
        added = AuditEvent.objects.get(chain_id=world.acme.organisation.id, action="audit.witness.added")
    everything = json.dumps([e.changes for e in [*delivered, added]]) + caplog.text
    assert secret not in everything and secret[6:20] not in everything


def test_a_failing_webhook_is_retried_with_backoff_and_every_attempt_audited(world, client_for, receiver, caplog):
    admin = client_for(world.acme.users["owner"])
    secret = _post(admin, "/api/v1/orgs/acme/audit/witnesses", {"kind": "webhook", "url": receiver}).json()["secret"]
    _new_checkpoint(world)
    Receiver.failures = 2

    first = deliver_due()
    assert _to(first, world.acme.witness.id) and "HTTP 500" in first.failed[0][2]  # the email went, the webhook not
    assert deliver_due().failed == [] and len(Receiver.received) == 1  # backing off: not tried again yet
    assert deliver_due(clock=later(61)).failed  # 1 minute later: tried, fails again
    assert deliver_due(clock=later(61 + 60)).failed == [] and len(Receiver.received) == 2  # now 2 minutes
    assert len(deliver_due(clock=later(61 + 121)).delivered) == 1 and len(Receiver.received) == 3  # the webhook

    failures = _platform_events("audit.witness.delivery_failed")
    assert [e.changes["attempt"] for e in failures] == [1, 2]
    assert all(e.changes["error"] == "the webhook answered HTTP 500" for e in failures)
    [delivered] = [e for e in _platform_events("audit.witness.delivered") if e.changes["kind"] == "webhook"]
    assert delivered.changes["attempt"] == 3
    assert [w["attempts"] for w in admin.get("/api/v1/orgs/acme/audit/witnesses").json()] == [0, 0]
    assert secret not in caplog.text and secret not in json.dumps([e.changes for e in failures])


def test_an_email_witness_receives_the_checkpoint(world, client_for):
    admin = client_for(world.acme.users["admin"])
    created = _post(admin, "/api/v1/orgs/acme/audit/witnesses", {"kind": "email", "email": "cfo@acme.example"})
    assert created.status_code == 201 and created.json()["secret"] is None
    _new_checkpoint(world)
    assert len(_to(deliver_due(), created.json()["id"])) == 1
    [message] = [m for m in mail.outbox if "audit checkpoint" in m.subject and m.to == ["cfo@acme.example"]]
    assert "--trusted-checkpoint" in message.body
    saved = message.body[message.body.index("{"):]
    assert load_trusted_checkpoint(saved)["body"]["chain"] == str(world.acme.organisation.id)


@pytest.mark.parametrize("payload, field, code", [
    ({"kind": "sms", "url": "https://x.example/"}, "kind", "invalid_kind"),
    ({"kind": "webhook", "url": "ftp://x.example/"}, "url", "invalid_url"),
    ({"kind": "webhook", "url": "http://x.example/"}, "url", "invalid_url"),  # HTTPS only
    ({"kind": "email", "email": "not an address"}, "email", "invalid_email"),
])
def test_bad_witnesses_are_refused_clearly(world, client_for, payload, field, code):
    response = _post(client_for(world.acme.users["admin"]), "/api/v1/orgs/acme/audit/witnesses", payload)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][field][0]["code"] == code


def test_only_admins_manage_witnesses_and_outsiders_see_nothing(world, client_for, receiver):
    body = {"kind": "webhook", "url": receiver}
    assert _post(client_for(world.acme.users["viewer"]), "/api/v1/orgs/acme/audit/witnesses", body).status_code == 403
    assert _post(client_for(world.globex.users["admin"]), "/api/v1/orgs/acme/audit/witnesses", body).status_code == 404
    admin = client_for(world.acme.users["admin"])
    witness = _post(admin, "/api/v1/orgs/acme/audit/witnesses", body).json()
    assert client_for(world.globex.users["owner"]).delete(
        f"/api/v1/orgs/globex/audit/witnesses/{witness['id']}").status_code == 404
    assert admin.delete(f"/api/v1/orgs/acme/audit/witnesses/{witness['id']}").status_code == 204
    assert [w["id"] for w in admin.get("/api/v1/orgs/acme/audit/witnesses").json()] == [str(world.acme.witness.id)]


def test_members_get_the_latest_checkpoint_and_consistency_proofs(world, client_for):
    viewer = client_for(world.acme.users["viewer"])
    assert viewer.get("/api/v1/orgs/acme/audit/checkpoint").status_code == 404  # none signed yet
    _new_checkpoint(world)
    old = viewer.get("/api/v1/orgs/acme/audit/checkpoint").json()
    _new_checkpoint(world)
    new = viewer.get("/api/v1/orgs/acme/audit/checkpoint").json()
    size1, size2 = old["body"]["tree_size"], new["body"]["tree_size"]
    assert size1 < size2
    proof = viewer.get(f"/api/v1/orgs/acme/audit/consistency?from={size1}").json()
    assert (proof["from"], proof["to"], proof["checkpoint"]) == (size1, size2, new)
    assert merkle.verify_consistency(size1, size2, bytes.fromhex(old["body"]["root_hash"]),
                                     bytes.fromhex(new["body"]["root_hash"]), [bytes.fromhex(p) for p in proof["proof"]])
    assert viewer.get(f"/api/v1/orgs/acme/audit/consistency?from={size2}&to={size1}").json()["error"]["code"] == \
        "invalid_input"
    assert viewer.get("/api/v1/orgs/acme/audit/consistency?from=1&to=999999").status_code == 422
    assert viewer.get("/api/v1/orgs/acme/audit/consistency?from=-1").status_code == 422
    assert client_for(world.globex.users["owner"]).get("/api/v1/orgs/acme/audit/checkpoint").status_code == 404


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook",  # this machine
    "https://localhost:8443/hook",
    "https://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
    "https://10.1.2.3/hook",  # the platform's private network
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://0.0.0.0/hook",
])
def test_a_webhook_into_the_platforms_own_network_is_refused(world, client_for, url):
    """Server-side request forgery: an admin's URL may not make the platform call its own network."""
    admin = client_for(world.acme.users["admin"])
    response = _post(admin, "/api/v1/orgs/acme/audit/witnesses", {"kind": "webhook", "url": url})
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["url"][0]["code"] == "private_address"
    assert [w["kind"] for w in admin.get("/api/v1/orgs/acme/audit/witnesses").json()] == ["email"]


def test_a_webhook_that_later_leads_into_the_platforms_network_is_not_called(world, client_for, receiver, settings):
    """The address is checked again at each delivery, against the address the connection uses: a host
    that changed where it points (DNS rebinding), or a network no longer allowed, gets nothing."""
    admin = client_for(world.acme.users["admin"])
    witness = _post(admin, "/api/v1/orgs/acme/audit/witnesses", {"kind": "webhook", "url": receiver}).json()
    settings.BASTION_OUTBOUND_ALLOWED_NETWORKS = []
    _new_checkpoint(world)
    run = deliver_due()
    assert Receiver.received == []
    [(failed_id, _, error)] = [f for f in run.failed if f[0] == witness["id"]]
    assert "not called" in error and "127.0.0.1" in error
    [event] = _platform_events("audit.witness.delivery_failed")
    assert event.changes["error"] == error

    settings.BASTION_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the operator allows it again
    assert _to(deliver_due(clock=later(61)), witness["id"])
    assert len(Receiver.received) == 1
