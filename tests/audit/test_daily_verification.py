"""The scheduled jobs: periodic checkpoints, and the daily verification that records and alarms."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from django.core import mail
from django.db import transaction

from bastion.audit.models import Checkpoint, VerificationResult
from bastion.db.rls import set_setting
from bastion.operations.tasks import audit_checkpoints, audit_verify_daily
from tests.audit.db_tampering import committed, forget, make_chain, tamper


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        _Receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _webhook():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_periodic_job_checkpoints_chains_with_new_events(db, settings):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 1000
    chain_id = make_chain(5)
    try:
        assert committed(audit_checkpoints.call_local) >= 1
        with transaction.atomic():
            set_setting("bastion.org_id", chain_id)
            assert list(Checkpoint.objects.filter(chain_id=chain_id).values_list("tree_size", flat=True)) == [5]
        assert committed(audit_checkpoints.call_local) == 0  # nothing new since
    finally:
        forget(chain_id)


def test_the_daily_job_records_a_passing_result(world):
    assert audit_verify_daily.call_local() == 0
    with transaction.atomic():
        set_setting("bastion.org_id", str(world.acme.organisation.id))
        result = VerificationResult.objects.get(chain_id=world.acme.organisation.id)
    assert result.ok and result.events >= 10
    assert mail.outbox == []


def test_the_daily_job_raises_the_alarm_on_a_broken_chain(db, settings, caplog):
    server = _webhook()
    settings.BASTION_ALERT_EMAILS = ["platform-admins@example.com"]
    settings.BASTION_ALERT_WEBHOOK = f"http://127.0.0.1:{server.server_port}/hook"
    _Receiver.received.clear()
    chain_id = make_chain(6)
    try:
        tamper("UPDATE audit_auditevent SET action = 'member.removed' WHERE chain_id = %s AND seq = 4", (chain_id,))
        assert committed(audit_verify_daily.call_local) == 1
        with transaction.atomic():
            set_setting("bastion.org_id", chain_id)
            result = VerificationResult.objects.get(chain_id=chain_id)
        assert (result.ok, result.first_bad_seq) == (False, 4)
        assert any(r.levelname == "ERROR" and chain_id in r.getMessage() for r in caplog.records)
        assert len(mail.outbox) == 1 and "broken" in mail.outbox[0].subject
        assert _Receiver.received == [{"event": "audit.verification.failed", "broken_chains": 1,
                                       "chains": _Receiver.received[0]["chains"]}]
        from prometheus_client import REGISTRY

        assert REGISTRY.get_sample_value("bastion_audit_broken_chains") == 1
    finally:
        server.shutdown()
        forget(chain_id)
