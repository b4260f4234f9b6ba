"""scripts/supply_chain.py: a new high-severity finding fails, an accepted one (with its reason) does
not; a dependency audit that looked nothing up is unknown, never a pass; first-seen dates are kept."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from scripts import supply_chain

ROOT = Path(__file__).resolve().parents[1]
TODAY = datetime.date(2026, 11, 30)


def test_bandit_finds_a_new_high_finding_and_the_baseline_accepts_it_by_fingerprint(tmp_path):
    (tmp_path / "app.py").write_text("import subprocess\n\n\ndef run(command):\n    subprocess.call(command, shell=True)\n")
    findings = supply_chain.run_bandit(tmp_path, ["app.py"])
    high = [f for f in findings if f.severity == "high"]
    assert [(f.rule, f.path, f.line) for f in high] == [("B602", "app.py", 5)]
    assert supply_chain.new_high_findings(findings, []) == high
    accepted = [{"fingerprint": high[0].fingerprint, "reason": "the command is a constant"}]
    assert supply_chain.new_high_findings(findings, accepted) == []

    # The same code a few lines lower keeps its fingerprint; a second such call is a new finding.
    (tmp_path / "app.py").write_text(
        "import subprocess\n\n\n\n\ndef run(command):\n    subprocess.call(command, shell=True)\n"
        "    subprocess.call(command, shell=True)\n"
    )
    moved = supply_chain.run_bandit(tmp_path, ["app.py"])
    new = supply_chain.new_high_findings(moved, accepted)
    assert [(f.rule, f.line) for f in new] == [("B602", 8)]


def test_every_accepted_finding_has_a_reason_and_names_its_file():
    accepted = json.loads((ROOT / "supply-chain" / "accepted.json").read_text())
    assert accepted
    for entry in accepted:
        assert entry["reason"].strip(), entry
        assert (ROOT / entry["path"]).is_file(), entry


def test_an_audit_that_looked_nothing_up_is_unknown_never_a_pass():
    skipped = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI"}], "fixes": []}
    assert supply_chain.audit_status(skipped) == ("unknown", [])
    partly = {"dependencies": [{"name": "django", "version": "5.2.8", "vulns": []}, *skipped["dependencies"]]}
    assert supply_chain.audit_status(partly) == ("unknown", [])
    assert supply_chain.audit_status(None) == ("unknown", [])
    assert supply_chain.audit_status({"dependencies": []}) == ("unknown", [])
    clean = {"dependencies": [{"name": "django", "version": "5.2.8", "vulns": []}]}
    assert supply_chain.audit_status(clean) == ("pass", [])
    vulnerable = {"dependencies": [{"name": "django", "version": "5.2.0", "vulns": [
        {"id": "PYSEC-2025-1", "aliases": ["CVE-2025-1"], "fix_versions": ["5.2.1"]}]}]}
    status, found = supply_chain.audit_status(vulnerable)
    assert status == "fail"
    assert found == [{"package": "django", "version": "5.2.0", "id": "PYSEC-2025-1", "aliases": ["CVE-2025-1"],
                      "fix_versions": ["5.2.1"]}]


def test_first_seen_dates_are_kept_and_a_fixed_finding_gets_its_resolved_date(tmp_path):
    ledger_path = tmp_path / "first-seen.json"
    finding = {"django==5.2.0:PYSEC-2025-1": {"package": "django", "version": "5.2.0", "id": "PYSEC-2025-1"}}
    supply_chain.record_first_seen("dependency", finding, TODAY, ledger_path)
    later = TODAY + datetime.timedelta(days=3)
    ledger = supply_chain.record_first_seen("dependency", finding, later, ledger_path)
    assert ledger["django==5.2.0:PYSEC-2025-1"]["first_seen"] == "2026-11-30"
    assert "resolved" not in ledger["django==5.2.0:PYSEC-2025-1"]
    ledger = supply_chain.record_first_seen("sast", {}, later, ledger_path)  # another kind leaves it alone
    assert "resolved" not in ledger["django==5.2.0:PYSEC-2025-1"]
    ledger = supply_chain.record_first_seen("dependency", {}, later, ledger_path)
    assert ledger["django==5.2.0:PYSEC-2025-1"]["resolved"] == "2026-12-03"
    assert json.loads(ledger_path.read_text()) == ledger
