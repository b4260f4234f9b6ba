"""Tell the platform's operators when a chain is broken: an error log line (done by
verification), a metric, an email to ``BASTION_ALERT_EMAILS`` and a POST to ``BASTION_ALERT_WEBHOOK``."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from prometheus_client import Counter, Gauge

from bastion.audit.audit_actions import AUDIT_VERIFICATION_FAILED

logger = logging.getLogger("bastion.audit")

VERIFICATION_FAILURES = Counter("bastion_audit_verification_failures", "Audit chains found broken by verification")
# "mostrecent": in multiprocess mode (bastion.operations.metrics) the job worker's latest value is served.
BROKEN_CHAINS = Gauge("bastion_audit_broken_chains", "Audit chains broken at the last verification run",
                      multiprocess_mode="mostrecent")


ANCHOR_FAILURES = Counter("bastion_audit_anchor_failures", "Checkpoints that could not be written to the anchor store")
UNANCHORED_CHAINS = Gauge("bastion_audit_unanchored_chains", "Chains whose newest checkpoint is not anchored yet",
                          multiprocess_mode="mostrecent")


def _notify(subject: str, body: str, payload: dict[str, Any]) -> None:
    """Email ``BASTION_ALERT_EMAILS`` and post ``payload`` to ``BASTION_ALERT_WEBHOOK``; never raises."""
    if settings.BASTION_ALERT_EMAILS:
        try:
            send_mail(subject, body, None, settings.BASTION_ALERT_EMAILS)
        except OSError:
            logger.exception("could not email the audit alert")
    if settings.BASTION_ALERT_WEBHOOK:
        request = urllib.request.Request(
            settings.BASTION_ALERT_WEBHOOK, method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps(payload).encode(),
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except OSError:
            logger.exception("could not post the audit alert to the webhook")


def notify(subject: str, body: str, payload: dict[str, Any]) -> None:
    """The same channels for other apps' alarms (a failed backup or restore drill); never raises."""
    _notify(subject, body, payload)


def verification_failed(broken: int, *, chains: int) -> None:
    VERIFICATION_FAILURES.inc(broken)
    BROKEN_CHAINS.set(broken)
    _notify(f"[Bastion] audit verification: {broken} of {chains} chain(s) broken",
            "Run `bastion audit verify` on the platform for the sequence numbers and the chains concerned.",
            {"event": AUDIT_VERIFICATION_FAILED, "broken_chains": broken, "chains": chains})


def verification_passed() -> None:
    BROKEN_CHAINS.set(0)


_anchoring_down = False  # alert once when anchoring starts failing, not every minute while it does


def anchoring_failed(failures: list[tuple[str, int, str]]) -> None:
    """Checkpoints could not be anchored (they stay in the database and are retried next minute)."""
    global _anchoring_down
    ANCHOR_FAILURES.inc(len(failures))
    UNANCHORED_CHAINS.set(len({chain for chain, _, _ in failures}))
    if _anchoring_down:
        return
    _anchoring_down = True
    chain, size, reason = failures[0]
    _notify(f"[Bastion] audit anchoring failing for {len(failures)} chain(s)",
            f"Signed checkpoints could not be written to the anchor store (first: chain {chain}, tree size {size}: "
            f"{reason}). They are kept and retried each minute; `bastion audit verify` fails once one is overdue.",
            {"event": "audit.anchoring.failed", "chains": len(failures), "first_chain": chain, "tree_size": size})


def anchoring_succeeded() -> None:
    global _anchoring_down
    _anchoring_down = False
    UNANCHORED_CHAINS.set(0)
