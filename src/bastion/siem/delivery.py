"""The minute job: push each destination's streams past its cursors, in sequence order.

At least once: a cursor moves only after the destination took the batch, so a batch that failed is
sent again (with backoff: 1, 2, 4 … minutes, at most an hour); after ``MAX_ATTEMPTS`` failures it goes
to the destination's dead-letter list and the stream moves on. Deliveries write nothing to the
organisation's own chain (each would be a new event to deliver, for ever); a dead-lettered batch is
audited in the platform's chain. The secret is read from the credentials vault directly, not through
``credentials.use``, for the same reason.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from bastion.audit import chain as audit
from bastion.siem import dead_letters, events, transports
from bastion.siem.audit_actions import SIEM_EVENTS_DEAD_LETTERED
from bastion.siem.models import DeadLetter, SiemDestination
from bastion.tenancy import context
from bastion.tenancy.models import Organisation
from bastion.tenancy.witnesses import backoff

logger = logging.getLogger("bastion.siem")

BATCH_SIZE = 200
MAX_ATTEMPTS = 8


@dataclass
class DeliveryRun:
    delivered: list[tuple[str, str, int, int]] = field(default_factory=list)  # (destination, stream, first, last)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (destination, stream, reason)
    dead_lettered: list[tuple[str, str, int, int]] = field(default_factory=list)


def _cursor_field(stream: str) -> str:
    return f"{stream}_cursor"


def _batch(destination: SiemDestination, stream: str) -> list[dict[str, Any]]:
    pending = events.after(destination.organisation_id, stream, getattr(destination, _cursor_field(stream)), BATCH_SIZE)
    if destination.kind == "s3" and pending:  # one object per time window
        window = transports.window_of(destination, pending[0])
        pending = [e for e in pending if transports.window_of(destination, e) == window]
    return pending


def _failed(destination: SiemDestination, stream: str, batch: list[dict[str, Any]], error: str,
            now: datetime.datetime, run: DeliveryRun) -> None:
    with context.tenant_context(destination.organisation_id):
        destination.attempts += 1
        destination.last_error = error[:300]
        if destination.attempts >= MAX_ATTEMPTS:
            DeadLetter.objects.create(organisation_id=destination.organisation_id, destination=destination,
                                      stream=stream, first_seq=batch[0]["seq"], last_seq=batch[-1]["seq"],
                                      events=batch, error=error[:300])
            setattr(destination, _cursor_field(stream), batch[-1]["seq"])
            destination.attempts, destination.next_attempt_at = 0, None
            audit.record(SIEM_EVENTS_DEAD_LETTERED, organisation_id=None, resource_type="siem_destination",
                         resource_id=destination.id,
                         changes={"organisation_id": str(destination.organisation_id), "stream": stream,
                                  "first_seq": batch[0]["seq"], "last_seq": batch[-1]["seq"], "error": error})
            run.dead_lettered.append((str(destination.id), stream, batch[0]["seq"], batch[-1]["seq"]))
        else:
            destination.next_attempt_at = now + backoff(destination.attempts)
        destination.save(update_fields=["attempts", "last_error", "next_attempt_at", _cursor_field(stream)])
    logger.warning("SIEM destination %s of organisation %s: %s events %s-%s not delivered (attempt %s): %s",
                   destination.id, destination.organisation_id, stream, batch[0]["seq"], batch[-1]["seq"],
                   destination.attempts, error)
    run.failed.append((str(destination.id), stream, error))


def deliver_destination(destination: SiemDestination, secret: str, now: datetime.datetime, run: DeliveryRun) -> bool:
    resent, errors = dead_letters.send_requeued(destination, secret)
    run.delivered += [(str(destination.id), stream, first, last) for stream, first, last in resent]
    run.failed += [(str(destination.id), "dead letters", error) for error in errors]
    for stream in destination.streams:
        while True:
            with context.tenant_context(destination.organisation_id):
                batch = _batch(destination, stream)
            if not batch:
                break
            try:
                transports.SEND[destination.kind](destination, secret, stream, batch)
            except transports.DeliveryError as exc:
                _failed(destination, stream, batch, str(exc), now, run)
                return False
            with context.tenant_context(destination.organisation_id):
                setattr(destination, _cursor_field(stream), batch[-1]["seq"])
                destination.attempts, destination.next_attempt_at, destination.last_error = 0, None, ""
                destination.last_delivered_at = timezone.now()
                destination.save(update_fields=[_cursor_field(stream), "attempts", "next_attempt_at", "last_error",
                                                "last_delivered_at"])
            run.delivered.append((str(destination.id), stream, batch[0]["seq"], batch[-1]["seq"]))
    return True


def deliver_due(*, clock: Callable[[], datetime.datetime] = timezone.now) -> DeliveryRun:
    run, now = DeliveryRun(), clock()
    with context.platform_scope():
        organisation_ids: list[uuid.UUID] = list(Organisation.objects.values_list("id", flat=True))
    for organisation_id in organisation_ids:
        with context.tenant_context(organisation_id):
            due = [(d, d.credential.secret if d.credential else "")
                   for d in SiemDestination.objects.select_related("credential").filter(enabled=True)
                   if d.next_attempt_at is None or d.next_attempt_at <= now]
        for destination, secret in due:
            deliver_destination(destination, secret, now, run)
    return run


def lag(destination: SiemDestination, now: datetime.datetime) -> dict[str, Any]:
    """Per stream: how many events wait, and how long the oldest of them has (run in the organisation's context)."""
    shown = {}
    for stream in destination.streams:
        count, oldest = events.oldest_pending(destination.organisation_id, stream,
                                              getattr(destination, _cursor_field(stream)))
        shown[stream] = {"pending": count, "lag_seconds": int((now - oldest).total_seconds()) if oldest else 0}
    return shown
