"""Streaming audit and read-access events to a customer's SIEM: a real HTTP receiver, moto_server's S3
and Debian's rsyslog over TLS, each started by the tests."""

import datetime
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from bastion.access_log import recording
from bastion.audit.models import AuditEvent
from bastion.siem import delivery
from bastion.siem.models import DeadLetter, SiemDestination
from bastion.tenancy import context, witnesses

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self):
        self.accepted: list[tuple[dict, bytes]] = []
        self.refusing = 0
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.refusing:
                    receiver.refusing -= 1
                    receiver.refused += 1
                    self.send_response(503)
                else:
                    receiver.accepted.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _add(client, org, **payload):
    response = client.post(f"/api/v1/orgs/{org}/siem-destinations", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def _named(client, name):
    return next(d for d in client.get("/api/v1/orgs/acme/siem-destinations").json() if d["name"] == name)


def _audit_seqs(org) -> list[int]:
    with context.tenant_context(org.organisation.id):
        return list(AuditEvent.objects.filter(chain_id=org.organisation.id).order_by("seq").values_list("seq", flat=True))


def _download(client_for, org):
    url = f"/api/v1/orgs/{org.slug}/projects/{org.project.id}/evidence/{org.evidence.id}/download"
    assert client_for(org.users["viewer"]).get(url).status_code == 200


def test_webhook_signed_in_order_and_an_outage_then_recovery_delivers_everything_once(
        world, client_for, receiver, caplog):
    acme = world.acme
    owner = client_for(acme.users["owner"])
    created = _add(owner, "acme", name="SOC", kind="webhook", url=receiver.url)
    secret = created["secret"]
    assert secret.startswith("whsec_")
    for _ in range(3):
        _download(client_for, acme)

    now = datetime.datetime.now(datetime.UTC)
    receiver.refusing = 10**6  # the SIEM is down
    with caplog.at_level(logging.DEBUG):
        run = delivery.deliver_due(clock=lambda: now)
        assert run.failed and not run.delivered
        assert delivery.deliver_due(clock=lambda: now + datetime.timedelta(seconds=30)).failed == []  # backing off
        assert len(delivery.deliver_due(clock=lambda: now + datetime.timedelta(minutes=2)).failed) == 1
        listed = _named(owner, "SOC")
        assert listed["attempts"] == 2 and listed["lag"]["access"]["pending"] == 3
        assert listed["lag"]["audit"]["pending"] > 0 and "503" in listed["last_error"]
        receiver.refusing = 0  # back up
        assert delivery.deliver_due(clock=lambda: now + datetime.timedelta(minutes=2)).delivered == []
        assert delivery.deliver_due(clock=lambda: now + datetime.timedelta(minutes=5)).delivered
        assert delivery.deliver_due(clock=lambda: now + datetime.timedelta(minutes=6)).delivered == []
    assert receiver.refused == 2

    received: dict[str, list[int]] = {"audit": [], "access": []}
    for headers, body in receiver.accepted:
        assert witnesses.verify_signature(secret, headers["X-Bastion-Timestamp"], body, headers["X-Bastion-Signature"])
        payload = json.loads(body)
        received[payload["stream"]] += [event["seq"] for event in payload["events"]]
        assert headers["X-Bastion-Stream"] == payload["stream"]
    assert received["access"] == [1, 2, 3]
    assert received["audit"] == _audit_seqs(acme)  # every event once, in order, none missing
    listed = _named(owner, "SOC")
    assert listed["lag"] == {"audit": {"pending": 0, "lag_seconds": 0}, "access": {"pending": 0, "lag_seconds": 0}}
    assert listed["secret"] is None
    assert secret not in caplog.text and secret not in json.dumps(listed)
    with context.tenant_context(acme.organisation.id):
        assert secret not in json.dumps(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_a_batch_refused_too_often_goes_to_the_dead_letter_list(world, client_for, receiver):
    acme = world.acme
    owner = client_for(acme.users["owner"])
    created = _add(owner, "acme", name="SOC", kind="webhook", url=receiver.url, streams=["access"])
    _download(client_for, acme)
    receiver.refusing = 10**6
    now = datetime.datetime.now(datetime.UTC)
    for hour in range(delivery.MAX_ATTEMPTS):
        delivery.deliver_due(clock=lambda hour=hour: now + datetime.timedelta(hours=hour))
    letters = owner.get(f"/api/v1/orgs/acme/siem-destinations/{created['id']}/dead-letters").json()
    assert [(d["stream"], d["first_seq"], d["last_seq"]) for d in letters] == [("access", 1, 1)]
    receiver.refusing = 0
    _download(client_for, acme)
    delivery.deliver_due(clock=lambda: now + datetime.timedelta(hours=9))
    assert [e["seq"] for _, body in receiver.accepted for e in json.loads(body)["events"]] == [2]


def test_s3_bucket_receives_json_lines_per_time_window(world, client_for, moto_endpoint):
    acme = world.acme
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="acme-siem")
    owner = client_for(acme.users["owner"])
    _add(owner, "acme", name="Lake", kind="s3", url=moto_endpoint, bucket="acme-siem", prefix="bastion/",
         region="us-east-1", access_key_id="testing", secret="testing", window_seconds=60)
    _download(client_for, acme)
    _download(client_for, acme)
    assert delivery.deliver_due().delivered
    objects = s3.list_objects_v2(Bucket="acme-siem")["Contents"]
    keys = sorted(o["Key"] for o in objects)
    assert all(k.startswith(f"bastion/{acme.organisation.id}/") and k.endswith(".jsonl") for k in keys)
    seqs: dict[str, list[int]] = {"audit": [], "access": []}
    for key in keys:
        lines = s3.get_object(Bucket="acme-siem", Key=key)["Body"].read().decode().splitlines()
        events = [json.loads(line) for line in lines]
        stream = key.split("/")[2]
        assert {e["stream"] for e in events} == {stream}
        seqs[stream] += [e["seq"] for e in events]
    assert sorted(seqs["access"]) == [1, 2]
    assert sorted(seqs["audit"]) == _audit_seqs(acme)
    assert delivery.deliver_due().delivered == []


def test_syslog_over_tls_to_rsyslog(world, client_for, rsyslog):
    acme = world.acme
    owner = client_for(acme.users["owner"])
    _add(owner, "acme", name="Syslog", kind="syslog", url=f"127.0.0.1:{rsyslog.port}", ca_certificate=rsyslog.ca_pem,
         streams=["access"])
    _download(client_for, acme)
    _download(client_for, acme)
    assert delivery.deliver_due().delivered
    deadline = time.monotonic() + 10
    ours = []
    while time.monotonic() < deadline:
        ours = [line for line in rsyslog.lines() if f'organisation="{acme.organisation.id}"' in line]
        if len(ours) == 2:
            break
        time.sleep(0.1)
    assert len(ours) == 2
    for seq, line in zip((1, 2), ours, strict=True):
        msgid, app, structured, message = line.split("|", 3)
        assert (msgid, app) == ("access", "bastion")
        assert f'seq="{seq}"' in structured and 'stream="access"' in structured
        assert json.loads(message.strip())["resources"] == [["evidence_file", str(acme.evidence.id)]]


def test_syslog_refuses_an_untrusted_certificate(world, client_for, rsyslog):
    acme = world.acme
    _add(client_for(acme.users["owner"]), "acme", name="Syslog", kind="syslog", url=f"127.0.0.1:{rsyslog.port}",
         streams=["access"])
    _download(client_for, acme)
    run = delivery.deliver_due()
    assert not run.delivered and "SSL" in run.failed[0][2]


def test_changes_are_audited_admins_only_and_outsiders_see_nothing(world, client_for, receiver):
    acme, globex = world.acme, world.globex
    owner = client_for(acme.users["owner"])
    created = _add(owner, "acme", name="SOC", kind="webhook", url=receiver.url)
    path = f"/api/v1/orgs/acme/siem-destinations/{created['id']}"
    assert owner.patch(path, {"streams": ["audit"]}, content_type="application/json").json()["streams"] == ["audit"]
    assert client_for(acme.users["viewer"]).get("/api/v1/orgs/acme/siem-destinations").status_code == 403
    outsider = client_for(globex.users["owner"])
    assert outsider.get("/api/v1/orgs/acme/siem-destinations").status_code == 404
    assert outsider.get(f"/api/v1/orgs/globex/siem-destinations/{created['id']}").status_code == 404
    assert outsider.delete(f"/api/v1/orgs/globex/siem-destinations/{created['id']}").status_code == 404
    assert [d["name"] for d in outsider.get("/api/v1/orgs/globex/siem-destinations").json()] == ["Globex Ltd SOC"]
    refused = owner.post("/api/v1/orgs/acme/siem-destinations",
                         {"name": "Metadata", "kind": "webhook", "url": "http://169.254.169.254/latest"},
                         content_type="application/json")
    assert refused.status_code == 422 and "url" in json.dumps(refused.json())
    assert owner.delete(path).status_code == 204
    with context.tenant_context(acme.organisation.id):
        actions = list(AuditEvent.objects.filter(resource_type="siem_destination").values_list("action", flat=True))
        assert actions == ["siem.destination.created", "siem.destination.updated", "siem.destination.deleted"]
        assert SiemDestination.objects.filter(name="SOC").count() == 0 and DeadLetter.objects.count() == 0
    with context.tenant_context(globex.organisation.id):
        assert list(SiemDestination.objects.values_list("name", flat=True)) == ["Globex Ltd SOC"]


def test_recording_helper_batches(world):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        batch = recording.record(acme.organisation.id, "export", [("project", acme.project.id), ("project", "x")])
        assert batch is not None and batch.resources == [["project", str(acme.project.id)], ["project", "x"]]


def test_console_page_adds_lists_and_removes_destinations(world, client_for, receiver):
    acme = world.acme
    owner = client_for(acme.users["owner"])
    page = owner.post("/o/acme/siem/", {"name": "SOC hook", "kind": "webhook", "url": receiver.url,
                                        "window_seconds": 300, "streams": ["audit", "access"]})
    assert page.status_code == 200
    html = page.content.decode()
    with context.tenant_context(acme.organisation.id):
        created = SiemDestination.objects.get(name="SOC hook")
        secret = created.credential.secret
    assert secret in html  # shown once, on the answer that made it
    listed = owner.get("/o/acme/siem/").content.decode()
    assert "SOC hook" in listed and secret not in listed and "waiting" in listed
    assert client_for(acme.users["viewer"]).get("/o/acme/siem/").status_code == 403
    assert client_for(world.globex.users["owner"]).get("/o/acme/siem/").status_code == 404
    assert "SOC hook" not in client_for(world.globex.users["owner"]).get("/o/globex/siem/").content.decode()
    assert owner.post(f"/o/acme/siem/{created.id}/remove/").status_code == 302
    with context.tenant_context(acme.organisation.id):
        assert not SiemDestination.objects.filter(name="SOC hook").exists()


def test_dead_letters_retried_by_an_admin_are_delivered_once_in_order(world, client_for, receiver):
    acme, globex = world.acme, world.globex
    owner = client_for(acme.users["owner"])
    created = _add(owner, "acme", name="SOC", kind="webhook", url=receiver.url, streams=["access"])
    retry = f"/api/v1/orgs/acme/siem-destinations/{created['id']}/dead-letters/retry"
    receiver.refusing = 10**6  # an outage long enough for two batches to be set aside
    now = datetime.datetime.now(datetime.UTC)
    for batch in range(2):
        _download(client_for, acme)
        for hour in range(delivery.MAX_ATTEMPTS):
            delivery.deliver_due(clock=lambda hour=hour, batch=batch: now + datetime.timedelta(hours=10 * batch + hour))
    letters = owner.get(f"/api/v1/orgs/acme/siem-destinations/{created['id']}/dead-letters").json()
    assert sorted((d["first_seq"], d["last_seq"]) for d in letters) == [(1, 1), (2, 2)]

    assert client_for(acme.users["viewer"]).post(retry).status_code == 403
    outsider = client_for(globex.users["owner"])
    assert outsider.post(retry).status_code == 404
    assert outsider.post(f"/api/v1/orgs/globex/siem-destinations/{created['id']}/dead-letters/retry").status_code == 404

    receiver.refusing = 0  # back up
    before = _audit_seqs(acme)
    response = owner.post(retry)
    assert response.status_code == 200, response.content
    assert response.json() == {"requeued": 2, "ranges": [["access", 1, 1], ["access", 2, 2]]}
    with context.tenant_context(acme.organisation.id):
        [event] = AuditEvent.objects.filter(chain_id=acme.organisation.id, seq__gt=before[-1])
        assert (event.action, event.resource_id, event.changes["dead_letters"]) == (
            "siem.dead_letters.retried", created["id"], 2)
    assert receiver.accepted == []  # re-queued, not sent within the request
    delivery.deliver_due(clock=lambda: now + datetime.timedelta(hours=30))
    delivery.deliver_due(clock=lambda: now + datetime.timedelta(hours=31))
    assert [e["seq"] for _, body in receiver.accepted for e in json.loads(body)["events"]] == [1, 2]
    assert owner.get(f"/api/v1/orgs/acme/siem-destinations/{created['id']}/dead-letters").json() == []
    assert owner.post(retry).json() == {"requeued": 0, "ranges": []}


def test_console_button_sends_dead_letters_again(world, client_for, receiver):
    acme = world.acme
    owner = client_for(acme.users["owner"])
    created = _add(owner, "acme", name="SOC", kind="webhook", url=receiver.url, streams=["access"])
    receiver.refusing = 10**6
    _download(client_for, acme)
    now = datetime.datetime.now(datetime.UTC)
    for hour in range(delivery.MAX_ATTEMPTS):
        delivery.deliver_due(clock=lambda hour=hour: now + datetime.timedelta(hours=hour))
    retry = f"/o/acme/siem/{created['id']}/retry/"
    assert retry in owner.get("/o/acme/siem/").content.decode()
    assert client_for(acme.users["viewer"]).post(retry).status_code == 403
    assert client_for(world.globex.users["owner"]).post(retry).status_code == 404
    assert client_for(world.globex.users["owner"]).post(f"/o/globex/siem/{created['id']}/retry/").status_code == 404
    receiver.refusing = 0
    assert owner.post(retry).status_code == 302
    assert "(re-queued)" in owner.get("/o/acme/siem/").content.decode()
    delivery.deliver_due(clock=lambda: now + datetime.timedelta(hours=9))
    assert [e["seq"] for _, body in receiver.accepted for e in json.loads(body)["events"]] == [1]
    assert retry not in owner.get("/o/acme/siem/").content.decode()  # nothing left to send again
