"""The daily verification job also re-computes every organisation's read-access log: results are
audit events of the organisation, and a broken log logs an error and alerts the platform's admins."""

from __future__ import annotations

import logging

from django.core import mail

from bastion.audit.models import AuditEvent
from bastion.operations.tasks import audit_verify_daily
from bastion.tenancy import context
from tests.access_log.db_tampering import append, committed_organisation, forget_organisation, tamper
from tests.audit.db_tampering import committed


def _verifications(organisation_id) -> list[tuple[str, dict]]:
    with context.tenant_context(organisation_id):
        return list(AuditEvent.objects.filter(chain_id=organisation_id, action__startswith="access_log.verification.")
                    .order_by("seq").values_list("action", "changes"))


def test_the_daily_job_verifies_every_read_access_log_and_raises_the_alarm_on_a_broken_one(db, settings, caplog):
    settings.BASTION_ALERT_EMAILS = ["platform-admins@example.com"]
    caplog.set_level(logging.INFO)
    intact, tampered = committed_organisation(), committed_organisation()
    try:
        committed(append, intact, 2)
        committed(append, tampered, 3)
        assert committed(audit_verify_daily.call_local) == 0
        assert [action for action, _ in _verifications(tampered)] == ["access_log.verification.passed"]
        assert mail.outbox == []

        tamper("UPDATE access_log_accessbatch SET request_id = 'forged' WHERE organisation_id = %s AND seq = 2",
               (tampered,))
        assert committed(audit_verify_daily.call_local) == 1
        action, changes = _verifications(tampered)[-1]
        assert action == "access_log.verification.failed"
        assert (changes["batches"], changes["first_bad_seq"]) == (1, 2)
        assert [action for action, _ in _verifications(intact)] == ["access_log.verification.passed"] * 2
        assert any(r.levelname == "ERROR" and str(tampered) in r.getMessage() and "batch 2" in r.getMessage()
                   for r in caplog.records)
        [alert] = mail.outbox
        assert "read-access log" in alert.subject and "1 of" in alert.subject
    finally:
        forget_organisation(intact)
        forget_organisation(tampered)
