"""Noticing a change of the declared sub-processor list: compared with the last published one,
recorded (with its audit event) in one transaction, and returned so the caller can announce it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from bastion.audit import chain as audit
from bastion.disclosures.audit_actions import SUBPROCESSORS_CHANGED
from bastion.disclosures.models import PublishedSubprocessors


@dataclass
class Change:
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    first: bool = False  # the first list this deployment published: recorded, not announced


def record_change() -> Change | None:
    """The change since the last published list, now recorded; None when nothing changed."""
    current = settings.BASTION_SUBPROCESSORS
    digest = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()
    with transaction.atomic():
        last = PublishedSubprocessors.objects.select_for_update().order_by("-id").first()
        if last is not None and last.digest == digest:
            return None
        before = last.entries if last else []
        change = Change(added=[e for e in current if e not in before], removed=[e for e in before if e not in current],
                        first=last is None)
        row = PublishedSubprocessors.objects.create(digest=digest, entries=current)
        audit.record(SUBPROCESSORS_CHANGED, resource_type="subprocessors", resource_id=row.id,
                     changes={"added": [e["name"] for e in change.added], "removed": [e["name"] for e in change.removed]})
    return change
