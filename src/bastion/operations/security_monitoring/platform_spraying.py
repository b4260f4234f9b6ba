"""Password spraying across the platform: one network trying many accounts of several
organisations (and accounts that do not exist, whose failures go to the platform's chain), too few
in any one organisation for its own rule to see.

No single chain holds the pattern, and row-level security lets the job read one organisation's
chain at a time; so each failed sign-in it reads is also noted as a platform row (the network and a
SHA-256 of the account tried, never the name) that this rule counts across chains.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from bastion.audit.personal import Shown
from bastion.operations.models import SignInFailure
from bastion.operations.security_monitoring.networks import country_sized
from bastion.operations.security_monitoring.rules import PASSWORD_SPRAYING, SIGN_IN_FAILURES, Finding


@dataclass(frozen=True)
class EventRef:
    """An event of any chain, as an alert links to it."""

    chain_id: uuid.UUID | str
    seq: int
    occurred_at: datetime.datetime


def observe(event: Shown) -> str | None:
    """Note a failed sign-in (in platform scope); its network, or ``None`` if it is not one."""
    network = country_sized(event.ip)
    username = (event.changes or {}).get("username")
    if event.action not in SIGN_IN_FAILURES or network is None or not username:
        return None
    SignInFailure.objects.bulk_create([SignInFailure(
        chain_id=event.chain_id, seq=event.seq, occurred_at=event.occurred_at, network=network,
        account_sha256=hashlib.sha256(str(username).strip().lower().encode()).hexdigest(),
    )], ignore_conflicts=True)
    return network


def spraying_across_organisations(network: str) -> Finding | None:
    """The pattern in the window ending at the network's latest failure (in platform scope)."""
    window = settings.BASTION_SECURITY_SPRAY_WINDOW_SECONDS
    latest = SignInFailure.objects.filter(network=network).order_by("-occurred_at").first()
    if latest is None:
        return None
    failures = list(SignInFailure.objects.filter(
        network=network, occurred_at__gte=latest.occurred_at - datetime.timedelta(seconds=window),
        occurred_at__lte=latest.occurred_at).order_by("occurred_at", "chain_id", "seq"))
    # A member of several organisations has each attempt in each of their chains: count per chain.
    tries: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for failure in failures:
        tries[failure.account_sha256][str(failure.chain_id)] += 1
    few = {account for account, per_chain in tries.items()
           if max(per_chain.values()) <= settings.BASTION_SECURITY_SPRAY_MAX_PER_ACCOUNT}
    if len(few) < settings.BASTION_SECURITY_SPRAY_ACCOUNTS:
        return None
    chains = {str(f.chain_id) for f in failures if f.account_sha256 in few}
    refs = tuple(EventRef(f.chain_id, f.seq, f.occurred_at) for f in failures if f.account_sha256 in few)
    return Finding(PASSWORD_SPRAYING, f"network {network}",
                   f"{len(few)} accounts in {len(chains)} audit chain(s) tried from {network} within "
                   f"{window // 60} minutes, each at most {settings.BASTION_SECURITY_SPRAY_MAX_PER_ACCOUNT} times",
                   refs, window)


def prune(now: datetime.datetime | None = None) -> int:
    """Forget failures older than twice the window (in platform scope)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=2 * settings.BASTION_SECURITY_SPRAY_WINDOW_SECONDS)
    deleted, _ = SignInFailure.objects.filter(occurred_at__lt=cutoff).delete()
    return deleted
