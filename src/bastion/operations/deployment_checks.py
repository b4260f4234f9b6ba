"""Run the deployment checks (each app's ``checks.py``) and hand back what they found, for
``bastion config check`` to show and for ``bastion serve`` to refuse to start on."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core import checks


@dataclass(frozen=True)
class Finding:
    id: str
    error: bool
    message: str
    hint: str


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.error]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.error]


def run() -> CheckReport:
    """Every check tagged ``security`` with the deployment ones, Bastion's and Django's; errors first."""
    messages = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True)
    findings = [Finding(id=message.id or "", error=message.level >= checks.ERROR, message=str(message.msg),
                        hint=message.hint or "")
                for message in messages if message.level >= checks.WARNING and not message.is_silenced()]
    return CheckReport(sorted(findings, key=lambda finding: (not finding.error, finding.id)))
