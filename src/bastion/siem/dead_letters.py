"""Sending a destination's dead letters again: an admin re-queues them (audited in the same
transaction), and the next delivery run sends them in sequence order, before the streams' new events,
removing each one the destination takes; one it refuses again goes back to the list."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.siem import transports
from bastion.siem.audit_actions import SIEM_DEAD_LETTERS_RETRIED
from bastion.siem.models import DeadLetter, SiemDestination
from bastion.tenancy import context

logger = logging.getLogger("bastion.siem")


@dataclass(frozen=True)
class Requeued:
    count: int
    ranges: list[tuple[str, int, int]]  # (stream, first seq, last seq), in the order they will be sent


def requeue(destination: SiemDestination) -> Requeued:
    """Run in the destination's organisation's context."""
    with transaction.atomic():
        letters = list(DeadLetter.objects.select_for_update().filter(destination=destination)
                       .order_by("stream", "first_seq"))
        DeadLetter.objects.filter(pk__in=[letter.pk for letter in letters]).update(requeued_at=timezone.now())
        ranges = [(letter.stream, letter.first_seq, letter.last_seq) for letter in letters]
        audit.record(SIEM_DEAD_LETTERS_RETRIED, organisation_id=destination.organisation_id,
                     resource_type="siem_destination", resource_id=destination.id,
                     changes={"dead_letters": len(letters), "ranges": [list(r) for r in ranges]})
    return Requeued(len(letters), ranges)


def send_requeued(destination: SiemDestination, secret: str) -> tuple[list[tuple[str, int, int]], list[str]]:
    """(what was delivered, why others were not): the re-queued letters, in sequence order per stream."""
    with context.tenant_context(destination.organisation_id):
        letters = list(DeadLetter.objects.filter(destination=destination, requeued_at__isnull=False)
                       .order_by("stream", "first_seq"))
    delivered, errors = [], []
    for index, letter in enumerate(letters):
        try:
            transports.SEND[destination.kind](destination, secret, letter.stream, letter.events)
        except transports.DeliveryError as exc:
            with context.tenant_context(destination.organisation_id):
                # This one and the rest go back to the list: a later retry sends them in order again.
                DeadLetter.objects.filter(pk__in=[rest.pk for rest in letters[index:]]).update(requeued_at=None)
                DeadLetter.objects.filter(pk=letter.pk).update(error=str(exc)[:300])
            logger.warning("SIEM destination %s of organisation %s: re-queued %s events %s-%s refused again: %s",
                           destination.id, destination.organisation_id, letter.stream, letter.first_seq,
                           letter.last_seq, exc)
            errors.append(str(exc))
            break
        with context.tenant_context(destination.organisation_id):
            letter.delete()
        delivered.append((letter.stream, letter.first_seq, letter.last_seq))
    return delivered, errors
