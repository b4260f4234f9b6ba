"""Read every chain's new events past its cursor and run the rules on them (the job each minute).

Appends are not slowed: the rules run here, after the fact, never in the transaction that records
an event. Each batch of a chain is one transaction: the alerts it raises, their audit events and
the cursor move together, so a crash re-reads the batch and a replay raises nothing twice.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from bastion.audit import personal
from bastion.audit.models import AuditEvent, ChainHead
from bastion.db import rls
from bastion.db.platform import PLATFORM_ID
from bastion.operations.audit_actions import SECURITY_ALERT_ACKNOWLEDGED, SECURITY_ALERT_RAISED
from bastion.operations.models import MonitorCursor
from bastion.operations.security_monitoring import platform_spraying
from bastion.operations.security_monitoring.raising import RaisedAlert, incident_is_open, raise_alert
from bastion.operations.security_monitoring.rules import RULES, SIGN_IN_FAILURES, ChainHistory
from bastion.tenancy import context
from bastion.tenancy.models import Organisation

BATCH = 500
OWN_ACTIONS = (SECURITY_ALERT_RAISED, SECURITY_ALERT_ACKNOWLEDGED)

# progress(chain id, events read so far in this chain)
Progress = Callable[[str, int], None]


@dataclass
class ScanResult:
    chains: int = 0  # chains that had new events
    events: int = 0
    raised: list[RaisedAlert] = field(default_factory=list)


def scan(progress: Progress | None = None, *, chains: list[str] | None = None) -> ScanResult:
    """Read new events of every chain (or of ``chains``), raising what the rules find."""
    result = ScanResult()
    networks: set[str] = set()  # of the failed sign-ins read, for spraying across organisations
    with context.platform_scope():
        heads = dict(ChainHead.objects.values_list("chain_id", "seq"))
        cursors = dict(MonitorCursor.objects.values_list("chain_id", "seq"))
    for chain_id, head_seq in sorted(heads.items(), key=lambda item: str(item[0])):
        if chains is not None and str(chain_id) not in chains:
            continue
        if head_seq <= cursors.get(chain_id, 0):
            continue
        result.chains += 1
        read = 0
        while True:
            batch_read, raised = _read_batch(str(chain_id), networks)
            read += batch_read
            result.raised.extend(raised)
            if progress:
                progress(str(chain_id), read)
            if batch_read < BATCH:
                break
        result.events += read
    # Once every chain is read: a pattern spread over several chains is complete only then.
    for network in sorted(networks):
        with context.platform_scope():
            finding = platform_spraying.spraying_across_organisations(network)
            if finding and (alert := raise_alert(finding, None)) is not None:
                result.raised.append(alert)
    with context.platform_scope():
        platform_spraying.prune()
    return result


def _read_batch(chain_id: str, networks: set[str]) -> tuple[int, list[RaisedAlert]]:
    if chain_id == PLATFORM_ID:
        with context.platform_scope():
            return _read(chain_id, None, networks)
    organisation_id = uuid.UUID(chain_id)
    with context.tenant_context(organisation_id):
        alive = Organisation.objects.filter(id=organisation_id).exists()  # a deleted one's chain stays
        return _read(chain_id, organisation_id if alive else None, networks, alerts=alive)


def _read(chain_id: str, organisation_id: uuid.UUID | None, networks: set[str], *,
          alerts: bool = True) -> tuple[int, list[RaisedAlert]]:
    """One batch, inside the caller's transaction: events after the cursor, the rules, the cursor
    moved; the networks of failed sign-ins are added to ``networks`` for the platform-wide rule."""
    MonitorCursor.objects.bulk_create([MonitorCursor(chain_id=chain_id)], ignore_conflicts=True)
    cursor = MonitorCursor.objects.select_for_update().get(chain_id=chain_id)  # one reader per chain at a time
    # As shown: the rules read IPs, user agents and names from the details kept outside the chain.
    events = personal.shown(list(AuditEvent.objects.filter(chain_id=chain_id, seq__gt=cursor.seq).order_by("seq")[:BATCH]))
    history = ChainHistory(chain_id, functools.partial(incident_is_open, organisation_id))
    raised = []
    for event in events:
        if event.action in OWN_ACTIONS:
            continue
        if event.action in SIGN_IN_FAILURES:
            with rls.setting("bastion.scope", "platform"):  # platform rows, counted across every chain
                if network := platform_spraying.observe(event):
                    networks.add(network)
        if not alerts:
            continue
        for rule in RULES:
            finding = rule(event, history)
            if finding is not None:
                alert = raise_alert(finding, organisation_id)
                if alert is not None:
                    raised.append(alert)
    if events:
        cursor.seq = events[-1].seq
        cursor.save(update_fields=["seq", "updated_at"])
    return len(events), raised
