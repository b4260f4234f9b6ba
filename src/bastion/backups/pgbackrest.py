"""PostgreSQL backups with pgBackRest (Debian's package): Bastion writes its configuration, runs
its commands as the ``postgres`` user and reads its JSON; pgBackRest does the work it is trusted
for — WAL archiving, full/differential/incremental backups into encrypted repositories (a local one
and an S3-compatible offsite one), point-in-time restores, ``expire`` and ``verify``.

The repositories' passphrase comes from the KMS provider (``keys.pgbackrest_passphrase``) and is
written in clear only into pgBackRest's configuration file, mode 0640, owned by postgres.
"""

from __future__ import annotations

import datetime
import json
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

BINARY = "pgbackrest"


class PgBackRestError(Exception):
    """A pgBackRest command failed; the message is its own last error line (no secrets: it never prints them)."""


@dataclass(frozen=True)
class LocalRepo:
    path: Path


@dataclass(frozen=True)
class S3Repo:
    bucket: str
    endpoint: str  # host name the certificate names (pgBackRest 2.45 speaks only HTTPS to S3)
    port: int
    region: str
    key: str
    secret: str
    ca_file: Path | None = None
    path: str = "/pgbackrest"


@dataclass(frozen=True)
class Cluster:
    """Where the PostgreSQL cluster pgBackRest backs up lives."""

    data_dir: Path
    port: int
    socket_dir: Path


def as_postgres(command: list[str]) -> list[str]:
    """pgBackRest and the cluster tools run as the cluster's owner: from root through runuser."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def chown_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


def write_config(path: Path, *, stanza: str, cluster: Cluster, repos: list[LocalRepo | S3Repo], passphrase: str,
                 work_dir: Path, process_max: int = 1, io_timeout: int = 60) -> Path:
    """pgBackRest's configuration: both repositories encrypted (aes-256-cbc) with ``passphrase``.
    Retention is not pgBackRest's: Bastion computes the catalogue and calls ``expire --set``."""
    lines = ["[global]", f"log-path={work_dir / 'log'}", f"lock-path={work_dir / 'lock'}",
             f"spool-path={work_dir / 'spool'}", "log-level-console=error", "log-level-file=info",
             "start-fast=y", "compress-type=zst", f"process-max={process_max}", "archive-check=y",
             f"io-timeout={io_timeout}", f"protocol-timeout={max(io_timeout + 30, 61)}"]
    for index, repo in enumerate(repos, start=1):
        prefix = f"repo{index}"
        if isinstance(repo, LocalRepo):
            lines += [f"{prefix}-path={repo.path}"]
        else:
            lines += [f"{prefix}-type=s3", f"{prefix}-path={repo.path}", f"{prefix}-s3-bucket={repo.bucket}",
                      f"{prefix}-s3-endpoint={repo.endpoint}", f"{prefix}-storage-port={repo.port}",
                      f"{prefix}-s3-region={repo.region}", f"{prefix}-s3-key={repo.key}",
                      f"{prefix}-s3-key-secret={repo.secret}", f"{prefix}-s3-uri-style=path"]
            if repo.ca_file:
                lines.append(f"{prefix}-storage-ca-file={repo.ca_file}")
        lines += [f"{prefix}-cipher-type=aes-256-cbc", f"{prefix}-cipher-pass={passphrase}",
                  # Bastion's catalogue decides what goes (``expire --set``); this only silences the warning.
                  f"{prefix}-retention-full-type=time", f"{prefix}-retention-full=9999"]
    lines += ["", f"[{stanza}]", f"pg1-path={cluster.data_dir}", f"pg1-port={cluster.port}",
              f"pg1-socket-path={cluster.socket_dir}", "pg1-user=postgres", ""]
    for sub in ("log", "lock", "spool"):
        (work_dir / sub).mkdir(mode=0o750, parents=True, exist_ok=True)
        chown_postgres(work_dir / sub)
    for repo in repos:
        if isinstance(repo, LocalRepo):
            repo.path.mkdir(mode=0o750, parents=True, exist_ok=True)
            chown_postgres(repo.path)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines))
    os.chmod(path, 0o640)
    chown_postgres(path)
    return path


def archive_command(config: Path, stanza: str) -> str:
    return f"{BINARY} --config={config} --stanza={stanza} archive-push %p"


@dataclass
class PgBackRest:
    config: Path
    stanza: str
    timeout: float = 600

    def run(self, *args: str, timeout: float | None = None) -> str:
        command = as_postgres([shutil.which(BINARY) or BINARY, f"--config={self.config}", f"--stanza={self.stanza}", *args])
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout or self.timeout)
        except subprocess.TimeoutExpired as exc:
            raise PgBackRestError(f"pgbackrest {args[-1]} did not finish within {exc.timeout} s") from exc
        if done.returncode:
            lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
            raise PgBackRestError(f"pgbackrest {' '.join(a for a in args if not a.startswith('--'))}: "
                                  f"{lines[-1] if lines else 'exit ' + str(done.returncode)}")
        return done.stdout

    def repo_keys(self) -> tuple[int, ...]:
        """The repositories the configuration names (1 = local, 2 = offsite when there is one)."""
        found = {int(n) for n in re.findall(r"^repo(\d+)-path=", self.config.read_text(), flags=re.M)}
        return tuple(sorted(found)) or (1,)

    def stanza_create(self) -> None:
        self.run("stanza-create")

    def check(self) -> None:
        """Also forces a WAL switch, so everything written so far is archived (needed before a PITR drill)."""
        self.run("check")

    def backup(self, kind: str, repo: int, *, annotations: dict[str, str] | None = None) -> None:
        """``annotations`` are stored with the backup (in the repository's encrypted backup info)."""
        notes = [f"--annotation={key}={value}" for key, value in (annotations or {}).items()]
        self.run(f"--repo={repo}", f"--type={kind}", *notes, "backup")

    def info(self) -> list[dict]:
        return json.loads(self.run("--output=json", "info"))

    def backups(self, repo: int) -> list[dict]:
        for stanza in self.info():
            if stanza.get("name") == self.stanza:
                return [b for b in stanza.get("backup", []) if b.get("database", {}).get("repo-key") == repo]
        return []

    def expire(self, label: str, repo: int) -> None:
        self.run(f"--repo={repo}", f"--set={label}", "expire")

    def verify(self, repo: int) -> None:
        self.run(f"--repo={repo}", "verify")

    def restore(self, target: Path, *, time: datetime.datetime | None = None, label: str | None = None,
                repo: int | None = None) -> None:
        """Into ``target`` (a new, empty directory owned by postgres), never over the live cluster."""
        args = [f"--pg1-path={target}", "--archive-mode=off"]
        if repo:
            args.append(f"--repo={repo}")
        if label:
            args.append(f"--set={label}")
        if time:
            moment = time.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "+00"
            args += ["--type=time", f"--target={moment}", "--target-action=promote"]
        else:
            args += ["--type=default"]
        self.run(*args, "restore")


@dataclass
class BackupInfo:
    label: str
    type: str
    repo: int
    started: datetime.datetime
    stopped: datetime.datetime
    size: int
    extra: dict = field(default_factory=dict)


def parse_backup(entry: dict) -> BackupInfo:
    stamps = entry["timestamp"]
    return BackupInfo(
        label=entry["label"], type=entry["type"], repo=entry["database"]["repo-key"],
        started=datetime.datetime.fromtimestamp(stamps["start"], datetime.UTC),
        stopped=datetime.datetime.fromtimestamp(stamps["stop"], datetime.UTC),
        size=entry.get("info", {}).get("repository", {}).get("delta", 0))
