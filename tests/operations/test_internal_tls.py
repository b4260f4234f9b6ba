"""Encrypted internal traffic, against the real servers started here: a PostgreSQL cluster that
accepts only TLS (``hostssl``) with a certificate from a CA of the test's own, and a Redis that
listens only with TLS. Bastion reaches both with the operator's CA (``sslmode=verify-full`` and
``sslrootcert`` in DATABASE_URL; ``rediss://…?ssl_ca_certs=`` in REDIS_URL) and fails against a
server its CA did not sign. ``own_cluster``: its own servers, whatever the suite's database."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from bastion.backups.pg_cluster import PG_BIN
from bastion.backups.pgbackrest import as_postgres, chown_postgres
from tests.backups.pg_peer import _wait_for_port, postgres_owned_base
from tests.live_server import ROOT, free_port
from tests.peers.certificates import make_ca_and_leaf

pytestmark = pytest.mark.own_cluster

SHOW_SSL = "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


@pytest.fixture(scope="module")
def tls_postgres():
    base = postgres_owned_base("bastion-pg-tls-")
    ca, cert, key = make_ca_and_leaf(base / "tls", hosts=("localhost",), addresses=())
    for path in (base / "tls", cert, key):
        chown_postgres(path)
    os.chmod(ca, 0o644)
    data, port = base / "data", free_port()
    subprocess.run(
        as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\n"
            f"ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\nssl_min_protocol_version = 'TLSv1.2'\n"
            "fsync = off\n"
        )
    # Over TCP only TLS is accepted: no `host` line, so a plain connection finds no entry.
    (data / "pg_hba.conf").write_text("local all all trust\nhostssl all all 127.0.0.1/32 trust\n")
    subprocess.run(
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "pg.log"), "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield port, ca
    finally:
        pid = int((data / "postmaster.pid").read_text().split()[0]) if (data / "postmaster.pid").exists() else None
        subprocess.run(
            as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]), capture_output=True
        )
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_redis():
    directory = Path(tempfile.mkdtemp(prefix="bastion-redis-tls-"))
    ca, cert, key = make_ca_and_leaf(directory, hosts=("localhost",), addresses=())
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(ca),
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "redis-server")
        yield port, ca
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _bastion(*args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DJANGO_", "REDIS_", "BASTION_"))
    }
    env.update(BASTION_DATA_DIR=tempfile.mkdtemp(prefix="bastion-tls-client-"), **extra)
    return subprocess.run(
        [sys.executable, "-m", "bastion.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def _other_ca() -> Path:
    ca, _, _ = make_ca_and_leaf(Path(tempfile.mkdtemp(prefix="bastion-other-ca-")))
    return ca


def test_postgres_accepts_only_tls_verified_against_the_operators_ca(tls_postgres):
    port, ca = tls_postgres
    with psycopg.connect(
        host="localhost", port=port, user="postgres", dbname="postgres", sslmode="verify-full", sslrootcert=str(ca)
    ) as connection:
        ssl, version = connection.execute(SHOW_SSL).fetchone()
    assert ssl is True and version in ("TLSv1.2", "TLSv1.3")
    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry|SSL off"):
        psycopg.connect(host="localhost", port=port, user="postgres", dbname="postgres", sslmode="disable")
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(
            host="localhost",
            port=port,
            user="postgres",
            dbname="postgres",
            sslmode="verify-full",
            sslrootcert=str(_other_ca()),
        )
    with pytest.raises(psycopg.OperationalError, match="does not match host name|server certificate"):
        psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", sslmode="verify-full", sslrootcert=str(ca)
        )  # the certificate names localhost only


def test_bastion_connects_to_postgres_with_verify_full_from_database_url(tls_postgres):
    port, ca = tls_postgres
    url = f"postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca}"
    shown = _bastion(
        "manage",
        "shell",
        "-c",
        "from django.db import connection; c = connection.cursor(); "
        f"c.execute({SHOW_SSL!r}); print('tls', *c.fetchone())",
        DATABASE_URL=url,
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "\ntls True TLSv1." in "\n" + shown.stdout, shown.stdout
    refused = _bastion(
        "manage",
        "shell",
        "-c",
        "from django.db import connection; connection.cursor()",
        DATABASE_URL=url.replace(str(ca), str(_other_ca())),
    )
    assert refused.returncode != 0 and "certificate verify failed" in refused.stderr


def test_bastion_uses_redis_over_tls_with_the_operators_ca(tls_redis):
    port, ca = tls_redis
    url = f"rediss://localhost:{port}/0?ssl_ca_certs={ca}"
    used = _bastion(
        "manage",
        "shell",
        "-c",
        "from django.core.cache import cache; cache.set('tls-probe', 'over tls'); print(cache.get('tls-probe'))",
        REDIS_URL=url,
    )
    assert used.returncode == 0, used.stderr[-3000:]
    assert used.stdout.strip().endswith("over tls")
    checked = _bastion("config", "check", REDIS_URL=url)
    assert "bastion.E504" not in checked.stdout and "bastion.W511" not in checked.stdout, checked.stdout
    wrong = _bastion("config", "check", REDIS_URL=f"rediss://localhost:{port}/0?ssl_ca_certs={_other_ca()}")
    assert wrong.returncode == 1 and "bastion.E504" in wrong.stdout, wrong.stdout
    plain = _bastion("config", "check", REDIS_URL=f"redis://localhost:{port}/0")
    assert plain.returncode == 1 and "bastion.E504" in plain.stdout  # a TLS-only server: plain is not answered
