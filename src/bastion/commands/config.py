"""``bastion config check``: show what the deployment checks found (bastion.operations.deployment_checks)."""

from __future__ import annotations

from typing import TextIO

from bastion.operations.deployment_checks import CheckReport, Finding


def show(finding: Finding, out: TextIO) -> None:
    print(f"{finding.id} {'error' if finding.error else 'warning'}: {finding.message}", file=out)
    if finding.hint:
        print(f"    fix: {finding.hint}", file=out)


def summary(report: CheckReport) -> str:
    if not report.findings:
        return "No problems found."
    errors, warnings = len(report.errors), len(report.warnings)
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}."


def check(report: CheckReport, out: TextIO) -> int:
    """Every finding with its fix, then a count; exit status 1 when any is an error."""
    for finding in report.findings:
        show(finding, out)
    print(summary(report), file=out)
    return 1 if report.errors else 0
