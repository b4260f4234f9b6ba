"""Verifying every audit chain (or one organisation's): the work behind ``bastion audit verify`` and
the daily job. Each chain's result is stored as an event (unless asked not to) and a broken chain
raises the alert. Returns the results; the command and the job display or log them."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from bastion.audit import alerts, verification
from bastion.db.platform import PLATFORM_ID
from bastion.tenancy.organisations import id_for, slugs_by_id

# progress(chain's name, events verified so far)
Progress = Callable[[str, int], object]  # what it returns is ignored


@dataclass(frozen=True)
class ChainResult:
    chain_id: str
    name: str  # "platform" or "organisation <slug> (<id>)"
    report: verification.ChainReport


@dataclass
class VerificationRun:
    results: list[ChainResult] = field(default_factory=list)

    @property
    def broken(self) -> list[ChainResult]:
        return [result for result in self.results if not result.report.ok]

    @property
    def ok(self) -> bool:
        return not self.broken


def chain_name(chain: str, slugs: dict[str, str]) -> str:
    return "platform" if chain == PLATFORM_ID else f"organisation {slugs.get(chain, '(deleted)')} ({chain})"


def verify(slug: str | None = None, *, record: bool = True, progress: Progress | None = None) -> VerificationRun:
    """Raises ``UnknownOrganisation`` for a slug that names none."""
    slugs = slugs_by_id()
    chains = [id_for(slug)] if slug else verification.known_chains(slugs)
    run_id, started = uuid.uuid4(), timezone.now()
    run = VerificationRun()
    for chain in chains:
        name = chain_name(chain, slugs)
        report = verification.verify_chain(chain, progress=functools.partial(progress, name) if progress else None)
        if record:
            verification.record_result(report, run_id, started)
        run.results.append(ChainResult(chain, name, report))
    if run.broken:
        alerts.verification_failed(len(run.broken), chains=len(chains))
    return run
