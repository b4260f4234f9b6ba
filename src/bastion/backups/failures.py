"""A failed backup or drill is loud: its row says so, an audit event records it, a metric counts
it and the operators hear of it through the channels the audit verification alerts on. Nothing
here deletes anything: the last good backup stays where it is."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bastion.audit import alerts
from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import audit_actions, metrics
from bastion.backups.models import Backup
from bastion.db.platform import PLATFORM_ID


def backup_failed(backup: Backup, reason: str) -> None:
    with transaction.atomic():
        Backup.objects.filter(pk=backup.pk).update(status="failed", error=reason[:2000], finished_at=timezone.now())
        enter_chain(PLATFORM_ID)
        audit_chain.record(audit_actions.BACKUP_FAILED, resource_type="backup", resource_id=str(backup.id),
                           changes={"engine": backup.engine, "type": backup.type, "repository": backup.repository,
                                    "reason": reason[:500]})
    metrics.BACKUP_FAILURES.inc()
    alerts.notify(f"[Bastion] backup failed: {backup.repository}",
                  f"A {backup.engine} {backup.type} backup to {backup.repository} failed: {reason}\n"
                  "The previous backups are kept. `bastion backup list` shows them.",
                  {"event": audit_actions.BACKUP_FAILED, "repository": backup.repository, "reason": reason[:500]})


def drill_failed(drill_id: str, reason: str) -> None:
    alerts.notify("[Bastion] restore drill failed",
                  f"Restore drill {drill_id} failed: {reason}\nRun `bastion backup drill` to see each check.",
                  {"event": audit_actions.DRILL_FAILED, "drill": drill_id, "reason": reason[:500]})
