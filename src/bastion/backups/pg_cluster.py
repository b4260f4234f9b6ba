"""A restored PostgreSQL cluster: started on a port of its own (never the live one), polled until
it is out of recovery, stopped and removed when a drill is done with it."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bastion.backups.pgbackrest import as_postgres, chown_postgres

PG_BIN = Path(os.environ.get("BASTION_PG_BIN", "/usr/lib/postgresql/15/bin"))


class ClusterError(Exception):
    pass


@dataclass
class Restored:
    data_dir: Path
    port: int
    socket_dir: Path

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres", dbname=dbname,
                               autocommit=True, connect_timeout=5)


def prepare(directory: Path) -> None:
    """A new, empty directory for the restore, owned by postgres, 0700."""
    if directory.exists() and any(directory.iterdir()):
        raise ClusterError(f"{directory} is not empty: restore into a new place")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    chown_postgres(directory)


def start(data_dir: Path, port: int, *, timeout: float = 120, options: str = "") -> Restored:
    """Start the restored cluster on ``port`` (its configuration is the source's: the port and
    socket are overridden on the command line, archiving was switched off by the restore)."""
    socket_dir = data_dir.parent / f"{data_dir.name}.sock"
    socket_dir.mkdir(mode=0o700, exist_ok=True)
    chown_postgres(socket_dir)
    options = f"-p {port} -k {socket_dir} -c listen_addresses='' -c archive_mode=off {options}".strip()
    done = subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-w", "-t", str(int(timeout)),
                                       "-o", options, "-l", str(data_dir.parent / f"{data_dir.name}.log"), "start"]),
                          capture_output=True, text=True, timeout=timeout + 10)
    if done.returncode:
        raise ClusterError(f"the restored cluster did not start: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    return Restored(data_dir, port, socket_dir)


def wait_until_promoted(cluster: Restored, *, timeout: float = 300) -> datetime.datetime | None:
    """Poll until the cluster is out of recovery; the newest replayed transaction's time."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with cluster.connect() as connection:
                in_recovery, replayed = connection.execute(  # a SELECT without FROM always has its row
                    "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()").fetchone() or (True, None)
                if not in_recovery:
                    return replayed
        except psycopg.OperationalError:
            pass
        if time.monotonic() > deadline:
            raise ClusterError(f"the restored cluster is still in recovery after {timeout:.0f} s")
        time.sleep(0.2)


def stop(cluster: Restored, *, remove: bool = True) -> None:
    subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(cluster.data_dir), "-m", "immediate", "-w", "stop"]),
                   capture_output=True, timeout=60)
    if remove:
        shutil.rmtree(cluster.data_dir, ignore_errors=True)
        shutil.rmtree(cluster.socket_dir, ignore_errors=True)
