"""``bastion audit verify`` and ``bastion audit export``: audit chains named by organisation slug."""

from __future__ import annotations

import sys
import uuid
from typing import TextIO

from django.utils import timezone

from bastion.audit import alerts
from bastion.audit import export as audit_export
from bastion.audit import verification
from bastion.audit.format import PLATFORM_CHAIN
from bastion.tenancy import context
from bastion.tenancy.models import Organisation


class CommandError(Exception):
    """A one-line reason; the CLI prints it and exits 2."""


def organisation_slugs() -> dict[str, str]:
    with context.platform_scope():
        return {str(org_id): slug for org_id, slug in Organisation.objects.values_list("id", "slug")}


def chain_for(slug: str) -> str:
    for chain, known in organisation_slugs().items():
        if known == slug:
            return chain
    raise CommandError(f"no organisation with slug {slug!r}")


def label(chain: str, slugs: dict[str, str]) -> str:
    return "platform" if chain == PLATFORM_CHAIN else f"organisation {slugs.get(chain, '(deleted)')} ({chain})"


def verify(slug: str | None = None, *, record: bool = True, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Exit code: 0 when every chain verified is intact, 1 otherwise (one line per broken chain)."""
    slugs = organisation_slugs()
    chains = [chain_for(slug)] if slug else verification.known_chains(slugs)
    run_id, started = uuid.uuid4(), timezone.now()
    broken = 0
    for chain in chains:
        name = label(chain, slugs)
        report = verification.verify_chain(chain, progress=lambda n, name=name: err.write(f"\r{name}: {n} events"))
        err.write("\n")
        if record:
            verification.record_result(report, run_id, started)
        if report.ok:
            out.write(f"ok {name}: {report.events} events, {report.checkpoints} checkpoints\n")
        else:
            broken += 1
            out.write(f"BROKEN {name}: first bad sequence number {report.first_bad_seq}: {report.message}\n")
    if broken:
        alerts.verification_failed(broken, chains=len(chains))
    return 1 if broken else 0


def export(slug: str, out: TextIO) -> int:
    for line in audit_export.export_lines(chain_for(slug)):
        out.write(line)
    return 0
