"""``bastion config check``: the real command in a subprocess, with a data dir of its own and the
environment an operator would set. A fresh data dir passes (warnings only); each kind of bad value,
and each production expectation not met, is listed with its fix, all at once, and exits 1.

No organisation exists here, so there is no outsider to keep out: what these tests guard is the
configuration itself.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live_server import ROOT

FINDING = re.compile(r"^(bastion\.[EW]\d{3}|security\.[EW]\d{3}) (error|warning): ", re.MULTILINE)
SECRET = secrets.token_urlsafe(64)


def _env(data_dir: Path, **variables: str) -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(data_dir.parent), "BASTION_DATA_DIR": str(data_dir)}
    for key in ("DATABASE_URL", "DATABASE_ADMIN_URL"):  # on the PostgreSQL run, checked against it too
        if os.environ.get(key):
            env[key] = os.environ[key]
    env.update(variables)
    return env


def _run(data_dir: Path, *arguments: str, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bastion.cli", *arguments], cwd=ROOT,
                          env=_env(data_dir, **variables), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120)


def check(data_dir: Path, *arguments: str, **variables: str) -> tuple[int, dict[str, str], str]:
    """Exit status, ``{check id: "error" | "warning"}``, and the whole output."""
    result = _run(data_dir, "config", "check", *arguments, **variables)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result.returncode, dict(FINDING.findall(result.stdout)), result.stdout + result.stderr


def production(tmp_path: Path, **variables: str) -> dict[str, str]:
    """A production configuration that passes every check; tests take one thing away from it."""
    return {"BASTION_PRODUCTION": "true", "BASTION_SECRET_KEY": SECRET,
            "BASTION_ALLOWED_HOSTS": "bastion.example.com", "BASTION_TRUSTED_PROXIES": "10.0.0.0/8",
            "BASTION_SMTP_HOST": "smtp.example.com", "BASTION_AUDIT_ANCHOR_URL": str(tmp_path / "anchor"),
            "BASTION_ALERT_EMAILS": "ops@example.com", "BASTION_BACKUP_URL": str(tmp_path / "offsite-backups"),
            "BASTION_PGBACKREST_CONFIG": str(tmp_path / "pgbackrest.conf"),  # checked on PostgreSQL
            "BASTION_REGION": "eu-central-1",
            **variables}


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


def test_a_fresh_data_dir_passes_with_warnings_only(data_dir):
    code, findings, output = check(data_dir)
    assert code == 0, output
    assert "error" not in findings.values(), output
    # What production would refuse is said, as warnings, each with its fix.
    assert {"bastion.W101", "bastion.W102", "bastion.W103", "bastion.W201", "bastion.W301"} <= set(findings), output
    assert output.count("    fix: ") == len(findings) and output.rstrip().endswith("warnings."), output


def test_backups_are_expected_in_production(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(tmp_path, BASTION_BACKUP_URL="",
                                                          BASTION_BACKUP_ENABLED="false"))
    assert code == 1 and findings.get("bastion.E601") == "error" and findings.get("bastion.E602") == "error", output
    if not os.environ.get("DATABASE_URL"):  # SQLite: the only repository would be inside the data dir
        assert findings.get("bastion.E604") == "error", output
    code, findings, output = check(data_dir, BASTION_BACKUP_ENABLED="false")  # outside production: warnings
    assert code == 0 and findings.get("bastion.W601") == "warning", output


def test_a_complete_production_configuration_passes(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(tmp_path))
    assert (code, findings) == (0, {}), output
    assert "No problems found." in output


def test_an_unparsable_integer(tmp_path, data_dir):
    code, findings, output = check(data_dir, BASTION_SMTP_PORT="five-eight-seven")
    assert code == 1 and findings.get("bastion.E001") == "error", output
    assert "BASTION_SMTP_PORT='five-eight-seven' is not an integer" in output


def test_an_unparsable_boolean(data_dir):
    code, findings, output = check(data_dir, BASTION_SIGNUP_ENABLED="maybe")
    assert code == 1 and findings.get("bastion.E001") == "error", output
    assert "BASTION_SIGNUP_ENABLED='maybe' is not a boolean" in output


def test_an_out_of_range_value(data_dir):
    code, findings, output = check(data_dir, BASTION_AUDIT_VERIFY_HOUR="24")
    assert code == 1 and findings.get("bastion.E002") == "error", output
    assert "BASTION_AUDIT_VERIFY_HOUR=24 is above the maximum of 23" in output


def test_a_value_below_its_minimum(data_dir):
    code, findings, output = check(data_dir, BASTION_PASSWORD_MIN_LENGTH="6")
    assert code == 1 and findings.get("bastion.E002") == "error", output
    assert "BASTION_PASSWORD_MIN_LENGTH=6 is below the minimum of 10" in output


def test_an_unknown_enum_value(data_dir):
    code, findings, output = check(data_dir, BASTION_KMS="vault")
    assert code == 1 and findings.get("bastion.E003") == "error", output
    assert "BASTION_KMS='vault' is not one of local, aws-kms" in output


def test_a_bad_url(data_dir):
    code, findings, output = check(data_dir, BASTION_ALERT_WEBHOOK="hooks.example.com/bastion")
    assert code == 1 and findings.get("bastion.E004") == "error", output
    assert "BASTION_ALERT_WEBHOOK='hooks.example.com/bastion' is not a https:// or http:// URL" in output


def test_a_bad_storage_url(data_dir):
    code, findings, output = check(data_dir, BASTION_STORAGE_URL="ftp://files.example.com/bastion")
    assert code == 1 and findings.get("bastion.E004") == "error", output
    assert "BASTION_STORAGE_URL='ftp://files.example.com/bastion'" in output


def test_an_unreadable_secret_file(tmp_path, data_dir):
    code, findings, output = check(data_dir, BASTION_SECRET_KEY_FILE=str(tmp_path / "missing"))
    assert code == 1 and findings.get("bastion.E005") == "error", output
    assert "BASTION_SECRET_KEY_FILE=" in output and "cannot be read" in output


def test_a_retired_variable(data_dir):
    code, findings, output = check(data_dir, BASTION_TRUSTED_ORIGINS="https://app.example.com")
    assert code == 1 and findings.get("bastion.E007") == "error", output
    assert "replaced by BASTION_ALLOWED_ORIGINS" in output


def test_a_bad_rate_limit(data_dir):
    code, findings, output = check(data_dir, BASTION_RATE_LIMIT_SIGNIN_IP="lots", BASTION_RATE_LIMIT_NOPE_IP="5/m")
    assert code == 1 and findings.get("bastion.E001") == "error" and findings.get("bastion.E003") == "error", output
    assert "BASTION_RATE_LIMIT_SIGNIN_IP='lots' is not a rate" in output
    assert "BASTION_RATE_LIMIT_NOPE_IP names no rate limit" in output


def test_a_missing_secret_key_in_production(tmp_path, data_dir):
    variables = production(tmp_path)
    del variables["BASTION_SECRET_KEY"]
    code, findings, output = check(data_dir, **variables)
    assert (code, findings) == (1, {"bastion.E103": "error"}), output
    assert "BASTION_SECRET_KEY_FILE" in output  # the fix says how


def test_a_weak_secret_key(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(tmp_path, BASTION_SECRET_KEY="hunter2"))
    assert code == 1 and findings.get("bastion.E002") == "error", output
    assert "BASTION_SECRET_KEY is too short" in output


def test_a_world_readable_key_file(data_dir):
    keys = data_dir / "keys"
    keys.mkdir(parents=True, mode=0o700)
    exposed = keys / "org-1.key"
    exposed.write_text("c2VjcmV0\n")
    exposed.chmod(0o644)
    code, findings, output = check(data_dir)
    assert code == 1 and findings.get("bastion.E401") == "error", output
    assert f"chmod 600 {exposed}" in output
    # Every other command still refuses to start at all while it is exposed.
    refused = _run(data_dir, "manage", "check")
    assert refused.returncode == 2 and "readable by group or others" in refused.stderr, refused.stderr


def test_a_world_readable_secret_key_file_and_data_dir(data_dir):
    assert check(data_dir)[0] == 0  # makes the data dir and its secret key file
    (data_dir / "secret_key").chmod(0o644)
    data_dir.chmod(0o755)
    code, findings, output = check(data_dir)
    assert code == 1 and findings.get("bastion.E006") == "error" and findings.get("bastion.E402") == "error", output


def test_the_hsm_provider_needs_its_module_token_and_a_pin_only_its_owner_reads(tmp_path, data_dir):
    pin_file = tmp_path / "hsm-pin"
    pin_file.write_text("4711\n")
    pin_file.chmod(0o644)
    code, findings, output = check(data_dir, BASTION_KMS="pkcs11", BASTION_PKCS11_LIBRARY=str(tmp_path / "no.so"),
                                   BASTION_PKCS11_PIN_FILE=str(pin_file))
    assert code == 1 and findings.get("bastion.E005") == "error" and findings.get("bastion.E006") == "error", output
    assert "BASTION_PKCS11_LIBRARY=" in output and "BASTION_PKCS11_TOKEN_LABEL is not set" in output
    assert f"chmod 600 {pin_file}" in output and "4711" not in output

    pin_file.chmod(0o600)
    code, findings, output = check(data_dir, BASTION_KMS="pkcs11", BASTION_PKCS11_LIBRARY="/usr/lib/softhsm/libsofthsm2.so",
                                   BASTION_PKCS11_TOKEN_LABEL="bastion", BASTION_PKCS11_PIN_FILE=str(pin_file))
    assert code == 0, output
    code, findings, output = check(data_dir, BASTION_KMS="pkcs11", BASTION_PKCS11_LIBRARY="/usr/lib/softhsm/libsofthsm2.so",
                                   BASTION_PKCS11_TOKEN_LABEL="bastion")
    assert code == 1 and "BASTION_PKCS11_PIN (or BASTION_PKCS11_PIN_FILE) is not set" in output, output


def test_no_tls_and_no_proxy_in_production(tmp_path, data_dir):
    variables = production(tmp_path)
    del variables["BASTION_TRUSTED_PROXIES"]
    code, findings, output = check(data_dir, **variables)
    assert (code, findings) == (1, {"bastion.E101": "error"}), output
    # Served over TLS by `bastion serve --certfile … --keyfile …`: nothing to say.
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.write_text("certificate"), key.write_text("key")
    code, findings, output = check(data_dir, "--certfile", str(certificate), "--keyfile", str(key), **variables)
    assert (code, findings) == (0, {}), output


def test_allowed_hosts_in_production(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(tmp_path, BASTION_ALLOWED_HOSTS="*"))
    assert (code, findings) == (1, {"bastion.E102": "error"}), output
    code, findings, output = check(data_dir, **production(tmp_path, BASTION_ALLOWED_HOSTS="localhost"))
    assert (code, findings) == (1, {"bastion.E102": "error"}), output


def test_the_console_email_backend_in_production(tmp_path, data_dir):
    variables = production(tmp_path)
    del variables["BASTION_SMTP_HOST"]
    code, findings, output = check(data_dir, **variables)
    assert (code, findings) == (1, {"bastion.E201": "error"}), output
    assert "printed to the console" in output and "BASTION_SMTP_HOST" in output


def test_development_relaxations_in_production(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(tmp_path, BASTION_WEBAUTHN_ALLOW_INSECURE_ORIGIN="true",
                                                          BASTION_SSO_ALLOW_HTTP="true",
                                                          BASTION_AUDIT_WITNESS_ALLOW_HTTP="true"))
    assert code == 1, output
    assert findings == {"bastion.E202": "error", "bastion.E203": "error", "bastion.E302": "error"}, output


def test_audit_anchoring_and_alerts_in_production(tmp_path, data_dir):
    variables = production(tmp_path)
    del variables["BASTION_AUDIT_ANCHOR_URL"], variables["BASTION_ALERT_EMAILS"]
    code, findings, output = check(data_dir, **variables)
    assert (code, findings) == (1, {"bastion.E301": "error", "bastion.W304": "warning"}), output


def test_a_bad_audit_signing_key(data_dir):
    code, findings, output = check(data_dir, BASTION_AUDIT_SIGNING_KEY="bm90IGEga2V5")
    assert code == 1 and findings.get("bastion.E303") == "error", output


def test_several_servers_without_redis(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(tmp_path, BASTION_SERVERS="3"))
    assert code == 1 and findings.get("bastion.E501") == "error", output
    assert "REDIS_URL" in output
    if not os.environ.get("DATABASE_URL"):
        assert findings.get("bastion.E502") == "error", output  # and SQLite cannot be shared either


def test_several_servers_with_state_on_one_machine_warn(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(tmp_path, BASTION_SERVERS="2"))
    assert findings.get("bastion.W505") == "warning", output
    for named in ("BASTION_KMS=local", "BASTION_STORAGE_URL", "BASTION_AUDIT_ANCHOR_URL"):
        assert named in output, named
    nowhere = f"http://127.0.0.1:{_free_port()}"  # nothing is asked of them here: no network needed
    shared = production(tmp_path, BASTION_SERVERS="2", BASTION_KMS="aws-kms", BASTION_AWS_KMS_ENDPOINT_URL=nowhere,
                        BASTION_STORAGE_URL=f"s3://evidence/bastion?endpoint_url={nowhere}&region=eu-central-1",
                        BASTION_AUDIT_ANCHOR_URL=f"s3://anchors/audit?endpoint_url={nowhere}&region=eu-central-1")
    code, findings, output = check(data_dir, **shared)
    assert "bastion.W505" not in findings, output


def test_every_problem_is_listed_at_once(tmp_path, data_dir):
    variables = production(tmp_path, BASTION_SMTP_PORT="x", BASTION_HSTS_SECONDS="-1", BASTION_KMS="vault",
                           BASTION_ALERT_WEBHOOK="not a url", BASTION_SERVERS="2", BASTION_SESSION_SAMESITE="None")
    del variables["BASTION_SECRET_KEY"], variables["BASTION_SMTP_HOST"], variables["BASTION_TRUSTED_PROXIES"]
    code, findings, output = check(data_dir, **variables)
    assert code == 1, output
    assert {"bastion.E001", "bastion.E002", "bastion.E003", "bastion.E004", "bastion.E101", "bastion.E103",
            "bastion.E201", "bastion.E501"} <= set(findings), output
    for variable in ("BASTION_SMTP_PORT", "BASTION_HSTS_SECONDS", "BASTION_KMS", "BASTION_ALERT_WEBHOOK",
                     "BASTION_SESSION_SAMESITE"):
        assert variable in output, variable


def test_start_up_refuses_every_bad_value_in_one_line(data_dir):
    result = _run(data_dir, "manage", "check", BASTION_SMTP_PORT="x", BASTION_KMS="vault")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    line, = result.stderr.strip().splitlines()
    assert "2 problems" in line and "BASTION_SMTP_PORT" in line and "BASTION_KMS" in line, line


def test_serve_refuses_to_start_in_production_on_errors(data_dir):
    # An address others can reach is production: a generated secret key, plain HTTP and console email are refused.
    result = _run(data_dir, "serve", "--host", "0.0.0.0", "--port", "1", "--no-jobs")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "bastion serve: refusing to start" in result.stderr.strip().splitlines()[-1]
    assert {"bastion.E101", "bastion.E103", "bastion.E201"} <= set(dict(FINDING.findall(result.stderr))), result.stderr
    if not os.environ.get("DATABASE_URL"):
        assert not (data_dir / "bastion.sqlite3").stat().st_size  # refused before migrating anything


# Redis: the shared cache must never evict (used TOTP codes, accepted SAML assertion ids).

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def evicting_redis(tmp_path_factory):
    """A Redis of our own configured the wrong way (allkeys-lru), stopped by its PID afterwards."""
    server = shutil.which("redis-server")
    assert server, "redis-server is needed (scripts/test starts it)"
    port = _free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(directory), "--maxmemory", "64mb",
                                "--maxmemory-policy", "allkeys-lru"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/15"
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=10)


def test_redis_that_evicts_is_an_error(tmp_path, data_dir, evicting_redis):
    code, findings, output = check(data_dir, **production(tmp_path, REDIS_URL=evicting_redis, BASTION_SERVERS="2"))
    assert code == 1 and findings.get("bastion.E503") == "error", output
    assert "'allkeys-lru'" in output and "noeviction" in output


def test_redis_with_noeviction_passes(tmp_path, data_dir):
    # The machine's Redis (scripts/test starts it), database 15 as every Redis test uses.
    variables = production(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15", BASTION_SERVERS="2")
    code, findings, output = check(data_dir, **variables)
    assert "bastion.E503" not in findings and "bastion.E504" not in findings, output
    assert "bastion.E501" not in findings, output


def test_unreachable_redis_is_an_error(tmp_path, data_dir):
    code, findings, output = check(data_dir, REDIS_URL=f"redis://127.0.0.1:{_free_port()}/15")
    assert code == 1 and findings.get("bastion.E504") == "error", output


@pytest.mark.parametrize(("variable", "value", "check_id", "said"), [
    ("BASTION_ALERT_EMAILS", "ops@example.com, nobody", "bastion.E001", "'nobody' is not an email address"),
    ("BASTION_EMAIL_FROM", "Bastion", "bastion.E001", "BASTION_EMAIL_FROM: 'Bastion' is not an email address"),
    ("BASTION_SECURITY_CONTACTS", "security team", "bastion.E004", "BASTION_SECURITY_CONTACTS='security team'"),
    ("BASTION_DNS_NAMESERVERS", "ns1.example.com", "bastion.E001", "'ns1.example.com' is not an IPv4 address"),
    ("BASTION_AWS_REGION", "Europe", "bastion.E001", "BASTION_AWS_REGION='Europe' is not an AWS region"),
    ("BASTION_TOTP_ISSUER", "Acme: Bastion", "bastion.E001", "BASTION_TOTP_ISSUER='Acme: Bastion' contains a colon"),
    ("BASTION_LOG_LEVEL", "LOUD", "bastion.E003", "BASTION_LOG_LEVEL='LOUD' is not one of"),
    ("BASTION_MFA_REQUIRED_ROLES", "owner,boss", "bastion.E003", "'boss' is not a built-in role"),
    ("BASTION_EMAIL_BACKEND", "mail.Sender", "bastion.E003", "BASTION_EMAIL_BACKEND='mail.Sender' is not an email"),
    ("BASTION_TRUSTED_PROXIES", "proxy.internal", "bastion.E001", "'proxy.internal' is not an IP address"),
    ("BASTION_OUTBOUND_ALLOWED_NETWORKS", "intranet", "bastion.E001", "'intranet' is not an IP network"),
    ("BASTION_ALLOWED_ORIGINS", "app.example.com", "bastion.E004", "BASTION_ALLOWED_ORIGINS='app.example.com'"),
    ("REDIS_URL", "localhost:6379", "bastion.E004", "REDIS_URL='localhost:6379' is not a redis://"),
    ("DATABASE_URL", "mysql://db.example.com/bastion", "bastion.E004", "DATABASE_URL must be a postgres:// URL"),
    ("BASTION_AUDIT_ANCHOR_URL", "witness", "bastion.E004", "a directory must be an absolute path"),
    ("BASTION_AUDIT_PUBLIC_KEYS", "bm90IGEga2V5", "bastion.E303", "is not the base64 of a 32-byte Ed25519 public"),
    ("BASTION_SESSION_SAMESITE", "None", "bastion.E003", "BASTION_SESSION_SAMESITE='None' is not one of Lax, Strict"),
    ("BASTION_SMTP_SSL", "true", "bastion.E007", "BASTION_SMTP_SSL and BASTION_SMTP_STARTTLS are both on"),
])
def test_each_setting_is_checked(data_dir, variable, value, check_id, said):
    extra = {"BASTION_SMTP_STARTTLS": "true"} if variable == "BASTION_SMTP_SSL" else {}
    code, findings, output = check(data_dir, **{variable: value}, **extra)
    assert code == 1 and findings.get(check_id) == "error", output
    assert said in output, output


def test_a_data_dir_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _run(blocker / "data", "config", "check")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().startswith("bastion: configuration error: BASTION_DATA_DIR="), result.stderr
    assert "cannot be made" in result.stderr


def test_the_report_is_a_result_object(settings):
    """What `config check` prints and `serve` refuses on is the service's result: findings, errors first."""
    from bastion.operations import deployment_checks

    settings.BASTION_PRODUCTION = False
    settings.BASTION_TRUSTED_PROXIES = []
    relaxed = deployment_checks.run()
    assert relaxed.errors == [] and "bastion.W101" in {finding.id for finding in relaxed.warnings}
    settings.BASTION_PRODUCTION = True
    strict = deployment_checks.run()
    assert "bastion.E101" in {finding.id for finding in strict.errors}
    assert all(finding.hint for finding in strict.findings if finding.id.startswith("bastion."))
    assert strict.findings == strict.errors + strict.warnings  # errors first
    settings.BASTION_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert "bastion.E101" not in {finding.id for finding in deployment_checks.run().errors}


def test_a_bad_replica_url(data_dir):
    """``DATABASE_REPLICA_URL`` must be a PostgreSQL URL, and a replica of ``DATABASE_URL`` (none on SQLite)."""
    code, findings, output = check(data_dir, DATABASE_REPLICA_URL="mysql://replica.example.com/bastion")
    expected = "bastion.E004" if os.environ.get("DATABASE_URL") else "bastion.E007"
    assert code == 1 and findings.get(expected) == "error", output
    assert "DATABASE_REPLICA_URL" in output
