"""Run the real ``bastion demo`` command in a subprocess for end-to-end tests.

A fresh data dir each time; on PostgreSQL a fresh database made by the owner role, migrated by
``bastion migrate`` as the owner, and served as the app role, exactly as in production.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LiveServer:
    url: str
    password: str
    data_dir: Path
    log: Path
    env: dict


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _postgres_database(env: dict) -> Iterator[None]:
    if not os.environ.get("DATABASE_URL"):
        yield
        return
    import dj_database_url
    import psycopg

    admin = dj_database_url.parse(os.environ["DATABASE_ADMIN_URL"])
    name = f"bastion_e2e_{secrets.token_hex(4)}"
    dsn = dict(host=admin["HOST"], port=admin["PORT"] or 5432, user=admin["USER"], password=admin["PASSWORD"],
               dbname="postgres", autocommit=True)
    with psycopg.connect(**dsn) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    for key in ("DATABASE_URL", "DATABASE_ADMIN_URL"):
        env[key] = os.environ[key].rsplit("/", 1)[0] + "/" + name
    try:
        yield
    finally:
        with psycopg.connect(**dsn) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def _running(command: list[str], env: dict, url: str, log: Path, context=None) -> Iterator[None]:
    """Run ``command`` (a ``bastion`` subcommand) until the block ends; ready when ``url/healthz`` answers."""
    with open(log, "wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "bastion.cli", *command], cwd=ROOT, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bastion {command[0]} exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2, context=context) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bastion {command[0]} did not become ready:\n{log.read_text()}")
            time.sleep(0.3)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def demo_server(extra_env: dict | None = None) -> Iterator[LiveServer]:
    data_dir = Path(tempfile.mkdtemp(prefix="bastion-e2e-"))
    port = free_port()
    password = "e2e " + secrets.token_urlsafe(12)
    env = {**os.environ, "BASTION_DATA_DIR": str(data_dir), "BASTION_DEMO_PASSWORD": password, **(extra_env or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    url, log = f"http://localhost:{port}", data_dir / "server.log"
    with _postgres_database(env), _running(["demo", "--port", str(port)], env, url, log):
        yield LiveServer(url=url, password=password, data_dir=data_dir, log=log, env=env)


@contextlib.contextmanager
def tls_server(certfile: Path | str, keyfile: Path | str, ca_file: Path | str,
               extra_env: dict | None = None) -> Iterator[LiveServer]:
    """The real ``bastion serve --certfile … --keyfile … --no-jobs`` on a free port, over HTTPS only.

    Its own data dir (and on PostgreSQL its own database, as ``demo_server``); ready when
    ``https://localhost:PORT/healthz`` answers to a client that trusts only ``ca_file``. No demo
    data, so ``password`` is empty. ``OPENSSL_CONF`` is not passed on: the server sets its own.
    """
    import ssl

    data_dir = Path(tempfile.mkdtemp(prefix="bastion-tls-"))
    port = free_port()
    env = {**os.environ, "BASTION_DATA_DIR": str(data_dir), **(extra_env or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if "OPENSSL_CONF" not in (extra_env or {}):
        env.pop("OPENSSL_CONF", None)
    url, log = f"https://localhost:{port}", data_dir / "server.log"
    command = ["serve", "--port", str(port), "--certfile", str(certfile), "--keyfile", str(keyfile), "--no-jobs"]
    with _postgres_database(env), _running(command, env, url, log, ssl.create_default_context(cafile=str(ca_file))):
        yield LiveServer(url=url, password="", data_dir=data_dir, log=log, env=env)
