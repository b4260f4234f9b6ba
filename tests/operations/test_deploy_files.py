"""deploy/: the alert rules pass `promtool check rules` and their unit tests (`promtool test rules`),
every alert has a test that sees it fire and one that sees it quiet, the scrape config example is
valid, and the Grafana dashboard asks only for metrics /metrics serves."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bastion.operations.metrics_view import SERVED_CERTIFICATE
from tests.live_server import ROOT
from tests.operations.scrape import TOKEN

DEPLOY = ROOT / "deploy"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"  # Debian's prometheus package (scripts/test installs it)


def _promtool(*args, cwd=DEPLOY / "prometheus") -> str:
    done = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_rules_are_valid_and_their_unit_tests_pass():
    assert "SUCCESS" in _promtool("check", "rules", "alerts.yml")
    tests = sorted(path.name for path in (DEPLOY / "prometheus" / "tests").glob("*.yml"))
    assert tests
    output = _promtool("test", "rules", *[f"tests/{name}" for name in tests])
    assert output.count("SUCCESS") == len(tests), output


def test_every_alert_is_tested_firing_and_quiet():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    fired, quiet = set(), set()
    for path in (DEPLOY / "prometheus" / "tests").glob("*.yml"):
        for test in yaml.safe_load(path.read_text())["tests"]:
            for check in test.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert alerts - fired == set(), "alerts without a test that sees them fire"
    assert alerts - quiet == set(), "alerts without a test that sees them stay quiet"
    assert {"BastionAuditChainBroken", "BastionAuditVerificationStale", "BastionAuditAnchoringFailing",
            "BastionHighErrorRate", "BastionHighLatency", "BastionSignInBruteForce", "BastionPasswordSpraying",
            "BastionJobFailing", "BastionDataKeyOlderThanPolicy", "BastionTLSCertificateExpiring"} <= alerts


def test_the_scrape_config_example_is_valid(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    config = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    assert "credentials_file: /etc/prometheus/bastion-metrics-token" in config and "type: Bearer" in config
    (tmp_path / "prometheus.yml").write_text(config.replace("/etc/prometheus/bastion-metrics-token", str(token_file)))
    shutil.copy(DEPLOY / "prometheus" / "alerts.yml", tmp_path / "alerts.yml")
    assert "SUCCESS" in _promtool("check", "config", "prometheus.yml", cwd=tmp_path)


@pytest.fixture
def served_certificate(tmp_path, monkeypatch):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    not_after = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)).not_valid_after(not_after)
                   .sign(key, hashes.SHA256()))
    path = tmp_path / "cert.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv(SERVED_CERTIFICATE, str(path))
    return not_after


def _served_names(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names |= {family.name + suffix for suffix in ("_bucket", "_count", "_sum")}
    return names


@pytest.mark.django_db
def test_the_dashboard_asks_only_for_served_metrics(client, settings, served_certificate):
    settings.BASTION_METRICS_TOKEN = TOKEN
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    served = _served_names(text)
    expiry = [s for f in text_string_to_metric_families(text) for s in f.samples
              if s.name == "bastion_tls_certificate_expiry_timestamp_seconds"]
    assert [s.value for s in expiry] == [served_certificate.timestamp()]

    dashboard = json.loads((DEPLOY / "grafana" / "bastion.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(expressions) >= 15
    asked = {name for expr in expressions for name in re.findall(r"\bbastion_[a-z0-9_]+", expr)}
    assert asked and asked - served == set()
    rules = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    assert set(re.findall(r"\bbastion_[a-z0-9_]+", rules)) - served == set(), "alert rules on metrics never served"
