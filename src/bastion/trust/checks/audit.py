"""The audit log: every chain verified, and every signed checkpoint anchored, within 26 hours."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from bastion.audit.checkpoints import enter_chain
from bastion.audit.models import ChainHead, Checkpoint, VerificationResult
from bastion.audit.verification import known_chains
from bastion.tenancy.organisations import slugs_by_id
from bastion.trust.checks import DAILY_WINDOW, Outcome, check, failed, passed


@check("audit.chains_verified_anchored", "Every audit chain verified and its checkpoints anchored within 26 hours")
def chains_verified_anchored() -> Outcome:
    now = timezone.now()
    unverified, broken, unanchored = [], [], []
    chains = known_chains(list(slugs_by_id()))
    for chain in chains:
        with transaction.atomic():
            enter_chain(chain)
            latest = VerificationResult.objects.filter(chain_id=chain).order_by("-finished_at").first()
            head = ChainHead.objects.filter(chain_id=chain).first()
            pending = (Checkpoint.objects.filter(chain_id=chain, tree_size__gt=head.anchored_size)
                       .order_by("tree_size").first() if head else None)
        if latest is None or now - latest.finished_at > DAILY_WINDOW:
            unverified.append(chain)
        elif not latest.ok:
            broken.append(chain)
        if pending is not None and now - datetime.datetime.fromisoformat(pending.time) > DAILY_WINDOW:
            unanchored.append(chain)
    evidence = {"chains": len(chains), "not_verified_26h": unverified, "failed": broken, "not_anchored_26h": unanchored}
    if unverified or broken or unanchored:
        return failed(f"of {len(chains)} chains: {len(broken)} failed verification, {len(unverified)} not verified "
                      f"and {len(unanchored)} not anchored within 26 hours", **evidence)
    return passed(f"all {len(chains)} chains verified and anchored within 26 hours", **evidence)
