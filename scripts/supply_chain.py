"""Supply chain checks run once per CI build (.ci/run): SAST, the dependency audit and the SBOM.

    uv run --frozen --no-sync python scripts/supply_chain.py sast    # bandit + semgrep, fails on a new high finding
    uv run --frozen --no-sync python scripts/supply_chain.py audit   # pip-audit of uv.lock: pass, fail or unknown
    uv run --frozen --no-sync python scripts/supply_chain.py sbom    # CycloneDX SBOM of uv.lock → dist/sbom.cdx.json

Accepted findings, each with its reason, are in supply-chain/accepted.json; every finding's first-seen
date is kept in supply-chain/first-seen.json (updated by each run: commit it), so the 7-day patch target
of a vulnerable dependency is measured from the day it was first seen. A dependency audit that could not
reach a vulnerability service is recorded as *unknown*, never as a pass.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SUPPLY_CHAIN = ROOT / "supply-chain"
ACCEPTED = SUPPLY_CHAIN / "accepted.json"
FIRST_SEEN = SUPPLY_CHAIN / "first-seen.json"
AUDIT_RESULT = ROOT / "dist" / "dependency-audit.json"
SBOM = ROOT / "dist" / "sbom.cdx.json"
SEMGREP_RULES = ROOT / ".semgrep"
# Vendored rules left out, each with why. semgrep matches `requests.x(...)` by name, so this rule takes
# the project's own module bastion.support_access.requests for the HTTP library; what it guards
# (an outbound request built from request data) is covered by .semgrep/bastion's
# bastion-outbound-http-outside-guard, which flags every outbound request outside the reviewed modules.
SEMGREP_EXCLUDED_RULES = {"ssrf-injection-requests"}  # by the rule's own id: semgrep prefixes it with the config's path
PATCH_TARGET_DAYS = 7
AUDIT_TIMEOUT_SECONDS = 300

# bandit's and semgrep's severities on one scale; "high" fails the build when it is new.
SEVERITY = {"HIGH": "high", "ERROR": "high", "MEDIUM": "medium", "WARNING": "medium", "LOW": "low", "INFO": "low"}


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    severity: str
    path: str
    line: int
    message: str
    fingerprint: str


def fingerprint(tool: str, rule: str, path: str, code: str, occurrence: int = 0) -> str:
    """Stable across moved lines: the rule, the file and the flagged code (whitespace-normalised)."""
    normalised = " ".join(code.split())
    return hashlib.sha256(f"{tool}\0{rule}\0{path}\0{normalised}\0{occurrence}".encode()).hexdigest()[:16]


def _source_line(root: Path, path: str, line: int) -> str:
    try:
        return (root / path).read_text(encoding="utf-8", errors="replace").splitlines()[line - 1]
    except (OSError, IndexError):
        return ""


def _with_fingerprints(root: Path, raw: list[tuple[str, str, str, str, int, str]]) -> list[Finding]:
    findings, seen = [], {}
    for tool, rule, severity, path, line, message in sorted(raw, key=lambda r: (r[3], r[4], r[0], r[1])):
        code = _source_line(root, path, line)
        key = (tool, rule, path, " ".join(code.split()))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        findings.append(
            Finding(tool, rule, severity, path, line, message, fingerprint(tool, rule, path, code, occurrence))
        )
    return findings


def run_bandit(root: Path, targets: list[str]) -> list[Finding]:
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        result = subprocess.run(
            [str(BIN / "bandit"), "-q", "-r", *targets, "-f", "json", "-o", report.name],
            cwd=root, capture_output=True, text=True,
        )
        if result.returncode not in (0, 1):  # 1: findings
            raise SystemExit(f"bandit failed ({result.returncode}): {result.stderr}")
        data = json.loads(Path(report.name).read_text())
    if data.get("errors"):
        raise SystemExit(f"bandit could not scan: {data['errors']}")
    raw = [
        ("bandit", r["test_id"], SEVERITY[r["issue_severity"]], os.path.relpath(root / r["filename"], root),
         r["line_number"], r["issue_text"])
        for r in data["results"]
    ]
    return _with_fingerprints(root, raw)


def _semgrep(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    # Offline: rules come from the repository, no metrics, no version check, no login.
    environment = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    return subprocess.run(
        [str(BIN / "semgrep"), *arguments], cwd=root, capture_output=True, text=True, env=environment
    )


def run_semgrep(root: Path, targets: list[str], rules: Path = SEMGREP_RULES) -> list[Finding]:
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        result = _semgrep(
            root, "scan", "--metrics=off", "--disable-version-check", "--quiet", "--config", str(rules),
            "--exclude", "tests", "--json", "--output", report.name, *targets,
        )
        if result.returncode != 0:
            raise SystemExit(f"semgrep failed ({result.returncode}): {result.stderr[-2000:]}")
        data = json.loads(Path(report.name).read_text())
    if data.get("errors"):
        raise SystemExit(f"semgrep could not scan: {[e.get('message') for e in data['errors']]}")
    raw = [
        ("semgrep", r["check_id"].rsplit(".", 1)[-1], SEVERITY[r["extra"]["severity"]], r["path"],
         r["start"]["line"], r["extra"]["message"].strip().splitlines()[0])
        for r in data["results"] if r["check_id"].rsplit(".", 1)[-1] not in SEMGREP_EXCLUDED_RULES
    ]
    return _with_fingerprints(root, raw)


def check_project_rules(root: Path = ROOT) -> None:
    """The project's own rules fire on their `# ruleid:` lines and stay quiet on their `# ok:` lines."""
    result = _semgrep(root, "scan", "--test", "--metrics=off", "--disable-version-check", str(SEMGREP_RULES / "bastion"))
    if result.returncode != 0:
        raise SystemExit(f"the project's semgrep rules fail their own tests:\n{result.stdout}{result.stderr}")


def _load(path: Path, default):
    return json.loads(path.read_text()) if path.exists() else default


def _save(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")


def record_first_seen(kind: str, current: dict[str, dict], today: datetime.date, path: Path = FIRST_SEEN) -> dict:
    """Keep each finding's first-seen date; a finding no longer found gets its resolved date."""
    ledger = _load(path, {})
    for key, details in current.items():
        entry = ledger.setdefault(key, {"first_seen": today.isoformat(), "kind": kind, **details})
        entry.pop("resolved", None)
    for key, entry in ledger.items():
        if entry["kind"] == kind and key not in current:
            entry.setdefault("resolved", today.isoformat())
    _save(path, ledger)
    return ledger


def new_high_findings(findings: list[Finding], accepted: list[dict]) -> list[Finding]:
    accepted_fingerprints = {entry["fingerprint"] for entry in accepted}
    return [f for f in findings if f.severity == "high" and f.fingerprint not in accepted_fingerprints]


def sast(today: datetime.date) -> int:
    check_project_rules()
    findings = run_bandit(ROOT, ["src"]) + run_semgrep(ROOT, ["src"])
    accepted = _load(ACCEPTED, [])
    missing_reason = [entry for entry in accepted if not entry.get("reason", "").strip()]
    if missing_reason:
        print(f"supply-chain/accepted.json: an accepted finding needs a reason: {missing_reason}")
        return 1
    record_first_seen(
        "sast", {f.fingerprint: {"tool": f.tool, "rule": f.rule, "severity": f.severity, "path": f.path} for f in findings},
        today,
    )
    counts = {level: sum(f.severity == level for f in findings) for level in ("high", "medium", "low")}
    print(f"SAST: {len(findings)} findings ({counts}); {len(accepted)} accepted in {ACCEPTED.relative_to(ROOT)}")
    found = {f.fingerprint for f in findings}
    for entry in accepted:
        if entry["fingerprint"] not in found:
            print(f"  accepted finding no longer found (remove it): {entry['fingerprint']} {entry.get('rule')}")
    new = new_high_findings(findings, accepted)
    for f in new:
        print(f"  NEW HIGH {f.tool} {f.rule} {f.path}:{f.line} [{f.fingerprint}] {f.message}")
    if new:
        print("SAST: failed — fix these, or accept each in supply-chain/accepted.json with its reason")
        return 1
    print("SAST: passed (no new high-severity finding)")
    return 0


def locked_requirements() -> str:
    return subprocess.run(
        ["uv", "export", "--frozen", "--all-groups", "--no-hashes", "--no-emit-project", "--format",
         "requirements.txt", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout


def audit_status(report: dict | None) -> tuple[str, list[dict]]:
    """pass only when every locked dependency was looked up and none is vulnerable; a skipped look-up
    (pip-audit reports a dependency it could not query as "not found" yet prints "No known
    vulnerabilities found") or no answer at all makes the result unknown."""
    if report is None:
        return "unknown", []
    dependencies = report.get("dependencies", [])
    vulnerable = [
        {"package": d["name"], "version": d["version"], "id": v["id"], "aliases": v.get("aliases", []),
         "fix_versions": v.get("fix_versions", [])}
        for d in dependencies for v in d.get("vulns", [])
    ]
    if vulnerable:
        return "fail", vulnerable
    if not dependencies or any("skip_reason" in d for d in dependencies):
        return "unknown", []
    return "pass", []


def audit(today: datetime.date) -> int:
    with tempfile.TemporaryDirectory() as work:
        requirements, output = Path(work, "requirements.txt"), Path(work, "audit.json")
        requirements.write_text(locked_requirements())
        try:  # a network that drops packets instead of refusing them must not hold the build
            result = subprocess.run(
                [str(BIN / "pip-audit"), "--requirement", str(requirements), "--no-deps", "--disable-pip",
                 "--progress-spinner", "off", "--format", "json", "--output", str(output), "--timeout", "10"],
                capture_output=True, text=True, timeout=AUDIT_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            result = subprocess.CompletedProcess([], -1, "", f"no answer within {AUDIT_TIMEOUT_SECONDS} s")
        report = json.loads(output.read_text()) if output.exists() and output.stat().st_size else None
    status, vulnerable = audit_status(report)
    skipped = len([d for d in (report or {}).get("dependencies", []) if "skip_reason" in d])
    ledger = record_first_seen(
        "dependency", {f"{v['package']}=={v['version']}:{v['id']}": {k: v[k] for k in ("package", "version", "id")}
                       for v in vulnerable},
        today,
    )
    overdue = []
    for v in vulnerable:
        first_seen = datetime.date.fromisoformat(ledger[f"{v['package']}=={v['version']}:{v['id']}"]["first_seen"])
        v["first_seen"] = first_seen.isoformat()
        v["patch_by"] = (first_seen + datetime.timedelta(days=PATCH_TARGET_DAYS)).isoformat()
        if today > first_seen + datetime.timedelta(days=PATCH_TARGET_DAYS):
            overdue.append(v)
    _save(AUDIT_RESULT, {
        "status": status, "checked_on": today.isoformat(), "vulnerabilities": vulnerable,
        "not_looked_up": skipped, "pip_audit_exit": result.returncode,
        "reason": "" if status != "unknown" else (
            "no vulnerability service answered" if report is None
            else f"{skipped} locked dependencies could not be looked up"),
    })
    print(f"dependency audit: {status.upper()}"
          + (f" — {skipped} dependencies could not be looked up (no vulnerability service reachable)" if skipped else "")
          + (f" — pip-audit: {result.stderr.strip().splitlines()[-1]}" if report is None and result.stderr.strip() else ""))
    for v in vulnerable:
        print(f"  {v['package']} {v['version']} {v['id']} first seen {v['first_seen']}, patch by {v['patch_by']}")
    # A vulnerability fails the build once it is past its 7-day patch target; unknown does not fail
    # (this build network reaches no vulnerability service) but is never reported as a pass.
    return 1 if overdue else 0


def sbom(output: Path) -> int:
    with tempfile.TemporaryDirectory() as work:
        requirements = Path(work, "requirements.txt")
        # What a deployment installs: the locked runtime dependencies with their hashes, no test tools.
        requirements.write_text(subprocess.run(
            ["uv", "export", "--frozen", "--no-emit-project", "--no-dev", "--format", "requirements.txt", "--quiet"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout)
        output.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(BIN / "cyclonedx-py"), "requirements", "--pyproject", str(ROOT / "pyproject.toml"),
             "--output-reproducible", "--output-format", "JSON", "--output-file", str(output), str(requirements)],
            check=True, capture_output=True, text=True,
        )
    components = json.loads(output.read_text()).get("components", [])
    print(f"SBOM: {len(components)} components (CycloneDX) → {output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["sast", "audit", "sbom"])
    parser.add_argument("--output", type=Path, default=SBOM, help="where the SBOM is written (sbom)")
    arguments = parser.parse_args(argv)
    today = datetime.datetime.now(datetime.UTC).date()
    if arguments.step == "sast":
        return sast(today)
    if arguments.step == "audit":
        return audit(today)
    return sbom(arguments.output)


if __name__ == "__main__":
    sys.exit(main())
