"""The audit and key facts Prometheus alerts on, folded over every chain and organisation into
counts and oldest timestamps (no organisation is ever a label): how many chains failed their
latest verification or were never verified, the oldest of the chains' last passed verifications,
and the oldest data key still in use. Computed by a job (``tasks.refresh_security_gauges``): it
reads each organisation in its own tenant context, too much work for every scrape."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from bastion.audit.checkpoints import enter_chain
from bastion.audit.models import VerificationResult
from bastion.audit.verification import known_chains
from bastion.crypto.key_models import DataKey
from bastion.operations import metrics
from bastion.tenancy import context
from bastion.tenancy.organisations import slugs_by_id

Progress = Callable[[int], None]


@dataclass(frozen=True)
class SecurityGauges:
    chains: int
    chains_failed: int
    chains_never_verified: int
    oldest_good_verification: float | None  # Unix time; None when no chain has passed yet
    oldest_data_key: float | None  # Unix time; None without organisations


def collect(*, progress: Progress | None = None) -> SecurityGauges:
    organisations = list(slugs_by_id())
    chains = known_chains(organisations)
    failed = never = 0
    oldest_good = None
    for done, chain in enumerate(chains, 1):
        with transaction.atomic():
            enter_chain(chain)
            results = VerificationResult.objects.filter(chain_id=chain).order_by("-finished_at")
            latest = results.first()
            last_good = results.filter(ok=True).values_list("finished_at", flat=True).first()
        if latest is not None and not latest.ok:
            failed += 1
        if last_good is None:
            never += 1
        elif oldest_good is None or last_good.timestamp() < oldest_good:
            oldest_good = last_good.timestamp()
        if progress:
            progress(done)
    oldest_key = None
    for organisation_id in organisations:
        with context.tenant_context(uuid.UUID(organisation_id)), transaction.atomic():
            newest = (DataKey.objects.filter(organisation_id=organisation_id).order_by("-version")
                      .values_list("created_at", flat=True).first())
        if newest is not None and (oldest_key is None or newest.timestamp() < oldest_key):
            oldest_key = newest.timestamp()
    return SecurityGauges(len(chains), failed, never, oldest_good, oldest_key)


def publish(gauges: SecurityGauges, *, now: float) -> None:
    metrics.AUDIT_CHAINS.set(gauges.chains)
    metrics.AUDIT_CHAINS_FAILED.set(gauges.chains_failed)
    metrics.AUDIT_CHAINS_UNVERIFIED.set(gauges.chains_never_verified)
    if gauges.oldest_good_verification is not None:
        metrics.AUDIT_OLDEST_GOOD.set(gauges.oldest_good_verification)
    if gauges.oldest_data_key is not None:
        metrics.DATA_KEY_OLDEST.set(gauges.oldest_data_key)
    metrics.SECURITY_GAUGES_UPDATED.set(now)
