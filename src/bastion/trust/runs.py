"""A run of every trust check: results stored, one platform audit event with each check's evidence
digest, the run signed with the platform key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.audit.format import format_time
from bastion.trust import signature
from bastion.trust.audit_actions import CHECKS_RUN
from bastion.trust.checks import FAIL, UNKNOWN, Outcome, registry
from bastion.trust.models import CheckResult, CheckRun


@dataclass(frozen=True)
class RunSummary:
    run: CheckRun
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(r.result != FAIL for r in self.results)


def _outcome(run) -> Outcome:
    try:
        return run()
    except Exception as exc:  # noqa: BLE001  (a check that cannot look is unknown, never pass; the run goes on)
        return Outcome(UNKNOWN, f"the check could not run: {type(exc).__name__}: {exc}"[:500])


def statement(run: CheckRun, results: list[CheckResult]) -> dict:
    """What a run's signature covers."""
    return {"run_id": str(run.id), "started_at": format_time(run.started_at), "finished_at": format_time(run.finished_at),
            "results": [{"check": r.check_id, "version": r.version, "result": r.result,
                         "evidence_sha256": r.evidence_sha256, "checked_at": format_time(r.checked_at)}
                        for r in results]}


def run_all(*, only: list[str] | None = None) -> RunSummary:
    checks = registry()
    started = timezone.now()
    results = []
    run = CheckRun(id=uuid.uuid4(), started_at=started)
    for check in checks.values():
        if only and check.id not in only:
            continue
        outcome = _outcome(check.run)
        evidence = {"check": check.id, "version": check.version, "result": outcome.result,
                    "details": outcome.details, "evidence": outcome.evidence}
        results.append(CheckResult(run=run, check_id=check.id, version=check.version, result=outcome.result,
                                   details=outcome.details, evidence=audit.json_safe(outcome.evidence),
                                   evidence_sha256=signature.sha256(audit.json_safe(evidence)),
                                   checked_at=timezone.now()))
    run.finished_at = timezone.now()
    signed = statement(run, results)
    run.digest = signature.sha256(signed)
    run.key_id, run.signature = signature.sign(signed)
    with transaction.atomic():
        event = audit.record(CHECKS_RUN, resource_type="trustrun", resource_id=str(run.id), changes={
            "digest": run.digest, "key_id": run.key_id, "signature": run.signature,
            "results": {r.check_id: [r.result, r.evidence_sha256] for r in results}})
        run.audit_seq = event.seq
        run.save()
        CheckResult.objects.bulk_create(results)
    return RunSummary(run, results)


def latest_results() -> dict[str, CheckResult]:
    """Each check's newest result, whichever run it came from."""
    newest: dict[str, CheckResult] = {}
    for result in CheckResult.objects.select_related("run").order_by("check_id", "-checked_at"):
        newest.setdefault(result.check_id, result)
    return newest
