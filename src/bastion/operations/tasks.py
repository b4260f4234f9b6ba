"""Periodic jobs. Each runs once per scheduled minute however many workers are running (the scheduler
claims the minute first: ``periodic_claims``), and ``lock_task`` keeps a long run from overlapping the next."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from bastion.access_log import verification as access_log_verification
from bastion.audit import alerts
from bastion.audit.checkpoints import anchor_pending, checkpoint_due
from bastion.audit.context import SYSTEM, acting_as
from bastion.backups import catalogue, drills, pg_backups, pg_drills, snapshots
from bastion.incidents import escalation, exercises
from bastion.operations import history, security_gauges, subprocessor_notices, subscriptions, summary
from bastion.operations.security_monitoring import monitor
from bastion.privacy import account_deletion, organisation_deletion, personal_export, retention
from bastion.siem import delivery as siem
from bastion.support_access import notifications, requests
from bastion.tenancy import artifacts, audit_verification, key_rotation, witnesses
from bastion.trust import runs as trust_runs

logger = logging.getLogger("bastion.operations")


@db_periodic_task(crontab(minute="*"))
@lock_task("audit-checkpoints")
def audit_checkpoints() -> int:
    """Each minute: sign a checkpoint for every chain with events due one (besides every N events),
    anchor every signed checkpoint the anchor store does not have yet (a store that is down is
    retried next minute; the failure is logged and alerted), then push new checkpoints to witnesses."""
    signed = checkpoint_due()
    run = anchor_pending()
    if run.failed:
        alerts.anchoring_failed(run.failed)
    else:
        alerts.anchoring_succeeded()
    with acting_as(SYSTEM):
        witnesses.deliver_due()  # customers' witnesses: each failure is audited and retried with backoff
    return len(signed)


@db_periodic_task(crontab(hour=str(settings.BASTION_AUDIT_VERIFY_HOUR), minute="17"))
@lock_task("audit-verify-daily")
def audit_verify_daily() -> int:
    """Re-compute every audit chain and every organisation's read-access log; results become events,
    and a broken chain or log raises the alarm."""
    with acting_as(SYSTEM):
        run = audit_verification.verify(record=True)
        access = access_log_verification.verify(record=True)
    security_gauges.publish(security_gauges.collect(), now=time.time())
    if run.ok:
        alerts.verification_passed()
        logger.info("daily audit verification: all %d chains intact", len(run.results))
    for result in run.broken:
        logger.error("daily audit verification: %s broken at sequence number %s: %s", result.name,
                     result.report.first_bad_seq, result.report.message)
    if access.ok:
        logger.info("daily read-access log verification: all %d logs intact", len(access.results))
    for broken in access.broken:
        logger.error("daily read-access log verification: %s broken at batch %s: %s", broken.name,
                     broken.check.first_bad_seq, broken.check.message)
    return 0 if run.ok and access.ok else 1


@db_periodic_task(crontab(minute="23"))
@lock_task("artifacts-purge-expired")
def purge_expired_artifacts() -> int:
    """Delete ephemeral artifacts (exports, temporary files) past their expiry; each deletion is audited."""
    with acting_as(SYSTEM):
        purged = artifacts.purge_expired() + personal_export.purge_expired()
    if purged:
        logger.info("deleted %d expired ephemeral artifacts", purged)
    return purged


@db_periodic_task(crontab(hour="4", minute="7"))
@lock_task("keys-rotate-due")
def rotate_old_keys() -> int:
    """Rotate every organisation whose newest data key is older than BASTION_KEY_MAX_AGE_DAYS."""
    with acting_as(SYSTEM):
        run = key_rotation.rotate(only_older_than_days=settings.BASTION_KEY_MAX_AGE_DAYS)
    for done in run.rotated:
        logger.info("scheduled key rotation of %s: data key v%s, %d rows re-encrypted", done.slug,
                    done.data_key_version, done.rows_reencrypted)
    return len(run.rotated)


@db_periodic_task(crontab(minute="*"))
@lock_task("status-probes")
def status_probes() -> int:
    """Each minute: probe every component of the status page and extend its history."""
    run = history.run()
    summary.forget()
    for key in run.changed:  # a component recovering (or first seen working) is news, not a warning
        level = logging.INFO if run.states[key] == "operational" else logging.WARNING
        logger.log(level, "status: %s is now %s", key, run.states[key])
    return sum(1 for state in run.states.values() if state != "operational")


@db_periodic_task(crontab(hour="5", minute="41"))
@lock_task("status-prune")
def prune_status_history() -> int:
    """Daily: status history older than BASTION_STATUS_HISTORY_DAYS, and subscriptions never confirmed."""
    run = history.prune()
    unconfirmed = subscriptions.prune_unconfirmed()
    if run.intervals_deleted or unconfirmed:
        logger.info("status: pruned %d history intervals (before %s), %d unconfirmed subscriptions",
                    run.intervals_deleted, run.before.isoformat(), unconfirmed)
    return run.intervals_deleted


@db_task()
def send_subscription_link(email: str, base_url: str) -> None:
    subscriptions.request_subscription(email, base_url)


@db_task()
def notify_subscribers(incident_id: str, update_id: str, base_url: str) -> int:
    run = subscriptions.notify(incident_id, update_id, base_url)
    if run.failed:
        logger.warning("status: %d of %d incident emails failed", len(run.failed), run.sent + len(run.failed))
    return run.sent


@db_periodic_task(crontab(minute="*/5"))
@lock_task("security-gauges")
def refresh_security_gauges() -> int:
    """Every 5 minutes: the audit and key gauges /metrics serves (bastion.operations.security_gauges)."""
    gauges = security_gauges.collect()
    security_gauges.publish(gauges, now=time.time())
    return gauges.chains


@db_periodic_task(crontab(minute="*"))
@lock_task("security-monitoring")
def security_monitoring() -> int:
    """Each minute: run the security rules over every chain's events since the last run."""
    with acting_as(SYSTEM):
        run = monitor.scan()
    if run.raised:
        logger.info("security monitoring: %d event(s) read in %d chain(s), %d alert(s) raised", run.events,
                    run.chains, len(run.raised))
    return len(run.raised)


@db_periodic_task(crontab(minute="*"))
@lock_task("staff-access")
def staff_access_minutely() -> dict:
    """Each minute: staff access requests left unanswered expire; ended grants get their review task."""
    with acting_as(SYSTEM):
        return requests.expire_and_ask_for_reviews()


@db_periodic_task(crontab(hour="6", minute="13"))
@lock_task("staff-access-digest")
def staff_access_digest() -> int:
    """Daily: each organisation's admins get the list of what platform staff did under grants."""
    return notifications.send_digests(hours=24)


@db_periodic_task(crontab(minute="*"))
@lock_task("siem-delivery")
def siem_delivery() -> int:
    """Each minute: stream every SIEM destination's audit and read-access events past its cursors."""
    with acting_as(SYSTEM):
        run = siem.deliver_due()
    return len(run.delivered)


@db_task()
def build_personal_export(export_id) -> None:
    """A person's "export my data": progress is kept in its row; they are emailed when it is ready."""
    with acting_as(SYSTEM):
        personal_export.build(export_id)


@db_periodic_task(crontab(hour=str(settings.BASTION_PRIVACY_HOUR), minute="41"))
@lock_task("privacy-daily")
def privacy_daily() -> dict:
    """Erase the people whose deletion's grace period is over, delete the organisations whose is,
    and delete what is past its retention period (legal holds suspend all three)."""
    with acting_as(SYSTEM):
        erasures = account_deletion.erase_due()
        deletions = organisation_deletion.delete_due()
        run = retention.enforce()
    for user_id, reason in erasures.refused:
        logger.warning("account deletion of user %s waits: %s", user_id, reason)
    for slug, hold in deletions.held.items():
        logger.info("deletion of organisation %s suspended by %s", slug, hold)
    return {"erased": len(erasures.erased), "suspended": len(erasures.suspended), "organisations_deleted":
            len(deletions.deleted), "retention_deleted": run.deleted, "retention_held": run.held}
@db_periodic_task(crontab(minute="41"))
@lock_task("backups-hourly")
def backup_hourly() -> int:
    """SQLite: an encrypted snapshot to every repository, then retention; PostgreSQL: the pgBackRest
    schedule (a full backup weekly, a differential daily, an incremental each hour) and ``expire``.
    A failure is stored, audited and alerted by the service; the job's result says so too."""
    if not settings.BASTION_BACKUP_ENABLED:
        return 0
    with acting_as(SYSTEM):
        if connection.vendor == "sqlite":
            result = snapshots.take()
            catalogue.expire_snapshots()
            ok = result.ok
        elif settings.BASTION_PGBACKREST_CONFIG:
            ok = pg_backups.run_due().ok
        else:
            return 0
    if not ok:
        logger.error("scheduled backup failed: see `bastion backup list`")
    return 0 if ok else 1


@db_periodic_task(crontab(day_of_week=str(settings.BASTION_BACKUP_DRILL_WEEKDAY), hour="5", minute="29"))
@lock_task("backups-drill-weekly")
def backup_drill_weekly() -> int:
    """Restore the newest backup, then a random point in time inside the retention window, each to a
    scratch place; check them, measure RTO and RPO (alerts on failure)."""
    if not settings.BASTION_BACKUP_ENABLED:
        return 0
    with acting_as(SYSTEM):
        if connection.vendor == "sqlite":
            results = [drills.run(), drills.run(point_in_time=True)]
        elif settings.BASTION_PGBACKREST_CONFIG:
            results = pg_drills.run_configured()
        else:
            return 0
    for result in results:
        logger.info("restore drill %s: %s, RTO %s s, RPO %s s", result.drill_id, "passed" if result.ok else "FAILED",
                    result.rto_seconds, result.rpo_seconds)
    return 0 if all(result.ok for result in results) else 1


@db_periodic_task(crontab(minute="*"))
@lock_task("incident-escalations")
def incident_escalations() -> int:
    """Each minute: escalate every incident timer that passed its target (once each), set the gauge."""
    with acting_as(SYSTEM):
        run = escalation.escalate_overdue()
    for reference, timer in run.escalated:
        logger.warning("incident %s: %s target passed, escalated", reference, timer)
    return len(run.escalated)


@db_periodic_task(crontab(day_of_week="1", hour="8", minute="3"))
@lock_task("incident-exercise-reminder")
def incident_exercise_reminder() -> bool:
    """Mondays: remind the operators while no incident-response exercise has run within the period."""
    return exercises.remind_if_overdue()


@db_periodic_task(crontab(hour="4", minute="17"))
@lock_task("trust-checks-daily")
def trust_checks_daily() -> int:
    """Daily: run every trust check; the run is signed and recorded (failures are on /trust)."""
    with acting_as(SYSTEM):
        summary = trust_runs.run_all()
    failed = [r.check_id for r in summary.results if r.result == "fail"]
    if failed:
        logger.warning("trust checks failing: %s", ", ".join(failed))
    return len(failed)


@db_periodic_task(crontab(minute="53"))
@lock_task("subprocessor-notices")
def notice_subprocessor_changes() -> int:
    """Hourly: a change of BASTION_SUBPROCESSORS (after a restart with a new value) is recorded and
    emailed to the status page's confirmed subscribers, linking to the first allowed host."""
    host = next((h for h in settings.ALLOWED_HOSTS if h and not h.startswith(".") and h != "*"), "localhost")
    with acting_as(SYSTEM):
        run = subprocessor_notices.notice_changes(f"https://{host}")
    return run.sent if run else 0
