"""Verifying every organisation's read-access log (or one's): the work behind ``bastion access-log
verify`` and the daily job. Each result is appended to the organisation's audit chain (unless asked
not to) and a broken log raises the platform's alarm, as a broken audit chain does. Returns the
results; the command and the job display or log them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from bastion.access_log import recording
from bastion.access_log.audit_actions import ACCESS_LOG_VERIFICATION_FAILED, ACCESS_LOG_VERIFICATION_PASSED
from bastion.audit import alerts
from bastion.audit import chain as audit
from bastion.tenancy import context
from bastion.tenancy.organisations import id_for, slugs_by_id

logger = logging.getLogger("bastion.access_log")

# progress(organisation's name), before its log is verified
Progress = Callable[[str], object]  # what it returns is ignored


@dataclass(frozen=True)
class LogResult:
    organisation_id: str
    name: str  # "organisation <slug> (<id>)"
    check: recording.ChainCheck


@dataclass
class VerificationRun:
    results: list[LogResult] = field(default_factory=list)

    @property
    def broken(self) -> list[LogResult]:
        return [result for result in self.results if not result.check.ok]

    @property
    def ok(self) -> bool:
        return not self.broken


def verify(slug: str | None = None, *, record: bool = True, progress: Progress | None = None) -> VerificationRun:
    """Raises ``UnknownOrganisation`` for a slug that names none."""
    slugs = slugs_by_id()
    organisations = [id_for(slug)] if slug else sorted(slugs)
    run = VerificationRun()
    for organisation in organisations:
        name = f"organisation {slugs[organisation]} ({organisation})"
        if progress:
            progress(name)
        organisation_id = uuid.UUID(organisation)
        with context.tenant_context(organisation_id):
            checked = recording.check(organisation_id)
            if record:
                audit.record(ACCESS_LOG_VERIFICATION_PASSED if checked.ok else ACCESS_LOG_VERIFICATION_FAILED,
                             organisation_id=organisation_id, resource_type="access_log", resource_id=organisation,
                             changes={"batches": checked.batches, "first_bad_seq": checked.first_bad_seq,
                                      "message": checked.message})
        if not checked.ok:
            logger.error("read-access log of %s is broken at batch %s: %s", name, checked.first_bad_seq,
                         checked.message)
        run.results.append(LogResult(organisation, name, checked))
    if run.broken:
        alerts.notify(f"[Bastion] read-access log verification: {len(run.broken)} of {len(run.results)} log(s) broken",
                      "Run `bastion access-log verify` on the platform for the organisations and batches concerned.",
                      {"event": ACCESS_LOG_VERIFICATION_FAILED, "broken_logs": len(run.broken),
                       "logs": len(run.results)})
    return run
