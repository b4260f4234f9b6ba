"""A PostgreSQL cluster of the tests' own (initdb/pg_ctl as postgres, its own port and directory),
archiving its WAL with pgBackRest into two encrypted repositories: a local one, and moto_server's
S3 behind a socat TLS terminator (pgBackRest 2.45 speaks only HTTPS to S3; the certificate names
``DNS:localhost`` only, as it refuses an IP SAN). One per test session, stopped by PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import boto3
import psycopg

from bastion.backups.pg_cluster import PG_BIN
from bastion.backups.pgbackrest import (
    Cluster,
    LocalRepo,
    PgBackRest,
    S3Repo,
    archive_command,
    as_postgres,
    chown_postgres,
    write_config,
)
from tests.live_server import free_port
from tests.peers.certificates import make_ca_and_leaf

STANZA = "bastion"


@dataclass
class Peer:
    base: Path
    cluster: Cluster
    pgbackrest: PgBackRest
    s3: S3Repo
    passphrase: str

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host=str(self.cluster.socket_dir), port=self.cluster.port, user="postgres",
                               dbname=dbname, autocommit=True)

    def config_with(self, name: str, repos, io_timeout: int = 60) -> PgBackRest:
        path = write_config(self.base / name, stanza=STANZA, cluster=self.cluster, repos=repos,
                            passphrase=self.passphrase, work_dir=self.base / "work", io_timeout=io_timeout)
        return PgBackRest(path, STANZA)


def _wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


@contextlib.contextmanager
def tls_terminator(target_port: int, directory: Path) -> Iterator[tuple[int, Path]]:
    ca, cert, key = make_ca_and_leaf(directory, hosts=("localhost",), addresses=())
    os.chmod(ca, 0o644)
    port = free_port()
    process = subprocess.Popen(["socat", f"OPENSSL-LISTEN:{port},reuseaddr,fork,cert={cert},key={key},verify=0",
                                f"TCP:127.0.0.1:{target_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process, "socat")
        yield port, ca
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def postgres_cluster(base: Path, *, archive: str = "", port: int | None = None) -> Iterator[Cluster]:
    """A cluster in ``base`` (postgres-owned), archiving with ``archive`` (none yet when empty:
    ``bastion backup setup`` is to set it), stopped and killed by PID at the end."""
    data_dir, socket_dir = base / "data", base / "socket"
    socket_dir.mkdir(mode=0o700)
    chown_postgres(socket_dir)
    cluster = Cluster(data_dir, port or free_port(), socket_dir)
    subprocess.run(as_postgres([str(PG_BIN / "initdb"), "-D", str(data_dir), "-A", "trust", "-U", "postgres",
                                "--no-sync"]), check=True, capture_output=True)
    with open(data_dir / "postgresql.conf", "a") as conf:
        conf.write(f"\nport = {cluster.port}\nunix_socket_directories = '{socket_dir}'\nlisten_addresses = ''\n"
                   f"wal_level = replica\narchive_mode = on\narchive_command = '{archive}'\n"
                   f"archive_timeout = {10 if archive else 0}\nmax_wal_senders = 3\nfsync = off\n")
    subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-w", "-l", str(base / "pg.log"),
                                "start"]), check=True, capture_output=True)
    try:
        yield cluster
    finally:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0]) if (data_dir / "postmaster.pid").exists() else None
        subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)


def postgres_owned_base(prefix: str) -> Path:
    base = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(base, 0o755)
    chown_postgres(base)
    return base


@contextlib.contextmanager
def cluster_with_pgbackrest(moto_url: str, passphrase: str) -> Iterator[Peer]:
    base = postgres_owned_base("bastion-pgbackrest-")
    bucket = f"pgbackrest-{os.getpid()}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    moto_port = int(moto_url.rsplit(":", 1)[1])
    # The port is only known once the cluster exists; the configuration (and so archive_command's
    # path) is written first, with the port the cluster is then given.
    port = free_port()
    try:
        with tls_terminator(moto_port, base / "tls") as (tls_port, ca):
            cluster = Cluster(base / "data", port, base / "socket")
            s3 = S3Repo(bucket=bucket, endpoint="localhost", port=tls_port, region="us-east-1", key="testing",
                        secret="testing", ca_file=ca)
            config = write_config(base / "pgbackrest.conf", stanza=STANZA, cluster=cluster,
                                  repos=[LocalRepo(base / "repo1"), s3], passphrase=passphrase, work_dir=base / "work")
            with postgres_cluster(base, archive=archive_command(config, STANZA), port=port) as cluster:
                pgbackrest = PgBackRest(config, STANZA)
                pgbackrest.stanza_create()
                pgbackrest.check()
                yield Peer(base, cluster, pgbackrest, s3, passphrase)
    finally:
        shutil.rmtree(base, ignore_errors=True)


class Standby:
    """A streaming replica of ``primary`` (``pg_basebackup -R -X stream``) in ``base``, on a port of its own."""

    def __init__(self, base, primary) -> None:
        self.data_dir, self.socket_dir, self.port = base / "data", base / "socket", free_port()
        self.socket_dir.mkdir(mode=0o700)
        chown_postgres(self.socket_dir)
        subprocess.run(
            as_postgres(
                [
                    str(PG_BIN / "pg_basebackup"),
                    "-h",
                    str(primary.socket_dir),
                    "-p",
                    str(primary.port),
                    "-U",
                    "postgres",
                    "-D",
                    str(self.data_dir),
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nunix_socket_directories = '{self.socket_dir}'\narchive_mode = off\n")
        subprocess.run(
            as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-w", "-l", str(base / "pg.log"), "start"]),
            check=True,
            capture_output=True,
        )
        self.url = f"postgresql://postgres@/postgres?host={quote(str(self.socket_dir))}&port={self.port}"

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres", dbname="postgres",
                               autocommit=True)

    def start(self) -> None:
        subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-w", "-l",
                                    str(self.data_dir.parent / "pg.log"), "start"]), check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(
            as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
