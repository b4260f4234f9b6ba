"""Change notices of the sub-processor list, emailed to the status page's confirmed subscribers
(double opt-in already done there), each with its own unsubscribe link."""

from __future__ import annotations

from bastion.disclosures.changes import Change, record_change
from bastion.operations.subscriptions import NotifyRun, email_subscribers


def _lines(entries: list[dict]) -> str:
    return "\n".join(f"  - {e['name']}: {e['purpose']} ({e['location']}; {e['safeguards']})" for e in entries) or "  none"


def announce(change: Change, base_url: str) -> NotifyRun:
    base = base_url.rstrip("/")
    return email_subscribers(
        "[Bastion] Our sub-processors changed",
        f"Added:\n{_lines(change.added)}\n\nRemoved:\n{_lines(change.removed)}\n\n"
        f"The full list: {base}/privacy/data-inventory#sub-processors\n\n", base, what="sub-processor notice")


def notice_changes(base_url: str) -> NotifyRun | None:
    """Record a change of the declared list and announce it; the first list is recorded silently."""
    change = record_change()
    if change is None or change.first:
        return None
    return announce(change, base_url)
