"""Change notices of the sub-processor list, emailed to the status page's confirmed subscribers
(double opt-in already done there), each with its own unsubscribe link."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage, get_connection

from bastion.disclosures.changes import Change, record_change
from bastion.operations.models import Subscriber
from bastion.operations.subscriptions import NotifyRun, unsubscribe_token

logger = logging.getLogger("bastion.operations")


def _lines(entries: list[dict]) -> str:
    return "\n".join(f"  - {e['name']}: {e['purpose']} ({e['location']}; {e['safeguards']})" for e in entries) or "  none"


def announce(change: Change, base_url: str) -> NotifyRun:
    run = NotifyRun()
    base = base_url.rstrip("/")
    with get_connection() as connection:
        for subscriber in Subscriber.objects.filter(confirmed=True).order_by("created_at").iterator():
            unsubscribe = f"{base}/status/unsubscribe/{unsubscribe_token(subscriber)}"
            message = EmailMessage(
                "[Bastion] Our sub-processors changed",
                f"Added:\n{_lines(change.added)}\n\nRemoved:\n{_lines(change.removed)}\n\n"
                f"The full list: {base}/privacy/data-inventory#sub-processors\n\nStop these emails: {unsubscribe}\n",
                to=[subscriber.email], connection=connection,
                headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                         "Auto-Submitted": "auto-generated"},
            )
            try:
                message.send()
            except OSError as exc:
                logger.warning("sub-processor notice to subscriber %s failed: %s", subscriber.id, exc)
                run.failed.append(str(subscriber.id))
            else:
                run.sent += 1
    return run


def notice_changes(base_url: str) -> NotifyRun | None:
    """Record a change of the declared list and announce it; the first list is recorded silently."""
    change = record_change()
    if change is None or change.first:
        return None
    return announce(change, base_url)
