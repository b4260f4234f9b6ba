"""Tell the platform's operators when a chain is broken: an error log line (done by
verification), a metric, an email to ``BASTION_ALERT_EMAILS`` and a POST to ``BASTION_ALERT_WEBHOOK``."""

from __future__ import annotations

import json
import logging
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from prometheus_client import Counter, Gauge

logger = logging.getLogger("bastion.audit")

VERIFICATION_FAILURES = Counter("bastion_audit_verification_failures", "Audit chains found broken by verification")
BROKEN_CHAINS = Gauge("bastion_audit_broken_chains", "Audit chains broken at the last verification run")


def verification_failed(broken: int, *, chains: int) -> None:
    VERIFICATION_FAILURES.inc(broken)
    BROKEN_CHAINS.set(broken)
    subject = f"[Bastion] audit verification: {broken} of {chains} chain(s) broken"
    body = "Run `bastion audit verify` on the platform for the sequence numbers and the chains concerned."
    if settings.BASTION_ALERT_EMAILS:
        try:
            send_mail(subject, body, None, settings.BASTION_ALERT_EMAILS)
        except OSError:
            logger.exception("could not email the audit alert")
    if settings.BASTION_ALERT_WEBHOOK:
        request = urllib.request.Request(
            settings.BASTION_ALERT_WEBHOOK, method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"event": "audit.verification.failed", "broken_chains": broken, "chains": chains}).encode(),
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except OSError:
            logger.exception("could not post the audit alert to the webhook")


def verification_passed() -> None:
    BROKEN_CHAINS.set(0)
