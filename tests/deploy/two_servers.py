"""Two app servers and two job workers behind HAProxy, sharing one PostgreSQL, one Redis and S3.

The several-server installation of issue 23 part 4, built once per test session from real parts:

- PostgreSQL: a database of its own (``bastion_twoservers``) made by ``scripts/postgres-setup`` with its
  owner and application roles, migrated by ``bastion migrate``; seeded with the demo's organisations
  (``acme`` and the outsider ``globex``), second factors and API keys by ``python -m tests.deploy.two_servers seed``;
- Redis: a ``redis-server`` of its own (``noeviction``, as production must), database 3: the cache (rate
  limits, used TOTP codes), the job queue and the periodic jobs' claims;
- S3 and KMS: ``moto_server`` (evidence objects, audit anchors in an Object Lock bucket, the KEKs);
- two ``bastion serve --no-jobs`` processes (``a`` and ``b``) and two ``bastion worker`` processes, each
  with a data directory of its own (the key files are distributed to each, as an operator would),
  ``BASTION_SERVERS=2``;
- HAProxy (Debian's) in front: round robin, a health check on ``/healthz`` every 300 ms, ``X-Forwarded-For``
  added and believed (``BASTION_TRUSTED_PROXIES=127.0.0.1``).

Each process runs in a session of its own, so a test can kill one "machine" (the gunicorn master and
its worker) with SIGKILL by its process group id.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from tests.live_server import ROOT, free_port
from tests.peers.moto import CREDENTIALS, moto_server

PASSWORD = "two servers demo password 42"
DATABASE = "bastion_twoservers"
REDIS_DB = 3
HAPROXY = "/usr/sbin/haproxy"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    url: str = ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_machine(self) -> None:
        """SIGKILL to the whole process group: the server and every child, as when a machine dies."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def signal(self, number: int) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, number)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=8)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


@dataclass
class Fleet:
    env: dict
    base: Path
    balancer: str
    redis_url: str
    superuser_url: str
    seed: dict
    servers: dict[str, Process] = field(default_factory=dict)
    workers: dict[str, Process] = field(default_factory=dict)

    def bastion(self, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
        """A ``bastion`` command on an operator's machine of this installation."""
        return subprocess.run([sys.executable, "-m", "bastion.cli", *args], cwd=ROOT,
                              env={**self.env, "BASTION_DATA_DIR": str(self.base / "operator")},
                              capture_output=True, text=True, timeout=timeout)

    def step(self, *args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "tests.deploy.two_servers", *args], cwd=ROOT,
                              env={**self.env, "BASTION_DATA_DIR": str(self.base / "operator")},
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """A read as the PostgreSQL superuser (row-level security does not hide rows from it)."""
        import psycopg

        with psycopg.connect(self.superuser_url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def redis(self):
        import redis

        return redis.Redis.from_url(self.redis_url)


def _wait_http(url: str, process: Process | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None:
            assert process.alive(), f"{process.name} exited {process.popen.returncode}:\n{process.text()[-3000:]}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered" + (f":\n{process.text()[-3000:]}" if process else ""))


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
                                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        deadline = time.monotonic() + 15
        while True:
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None, "redis-server did not start"
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/{REDIS_DB}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def postgres_database() -> dict[str, str]:
    """A fresh ``bastion_twoservers`` database with its owner and application roles (scripts/postgres-setup)."""
    import psycopg

    setup = subprocess.run([str(ROOT / "scripts" / "postgres-setup")], env={**os.environ, "BASTION_PG_DATABASE": DATABASE},
                           capture_output=True, text=True, timeout=120, check=True)
    urls = dict(re.findall(r"^export (\w+)=(\S+)$", setup.stdout, flags=re.M))
    with psycopg.connect(urls["BASTION_TEST_PG_SUPERUSER_URL"], autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    setup = subprocess.run([str(ROOT / "scripts" / "postgres-setup")], env={**os.environ, "BASTION_PG_DATABASE": DATABASE},
                           capture_output=True, text=True, timeout=120, check=True)
    urls = dict(re.findall(r"^export (\w+)=(\S+)$", setup.stdout, flags=re.M))
    urls["SUPERUSER_URL"] = urls.pop("BASTION_TEST_PG_SUPERUSER_URL").rsplit("/", 1)[0] + f"/{DATABASE}"
    return urls


def haproxy_config(port: int, servers: dict[str, int]) -> str:
    lines = [
        "global",
        "  maxconn 512",
        "defaults",
        "  mode http",
        "  timeout connect 2s",
        "  timeout client 60s",
        "  timeout server 60s",
        "  option forwardfor",  # X-Forwarded-For: the client's address, believed from 127.0.0.1 only
        "  option redispatch",
        "  retries 2",
        "  retry-on conn-failure",  # only when no byte of the request reached a server: never a write twice
        "frontend web",
        f"  bind 127.0.0.1:{port}",
        "  default_backend app",
        "backend app",
        "  balance roundrobin",
        "  option httpchk",
        "  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost",
        "  http-check expect status 200",
        "  http-response set-header X-Served-By %[srv_name]",  # which server answered, for the tests
    ]
    lines += [f"  server {name} 127.0.0.1:{server_port} check inter 300 fall 2 rise 2"
              for name, server_port in servers.items()]
    return "\n".join(lines) + "\n"


def _start(name: str, argv: list[str], env: dict, log: Path) -> Process:
    with open(log, "wb") as out:
        popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Process(name, popen, log)


def _shared_key_files(operator: Path) -> Path:
    """The platform's key files (API key pepper, digest key), made once and given to every machine,
    in the format ``bastion.crypto.keyfiles`` reads (base64 of 32 random bytes, mode 0600)."""
    keys = operator / "keys"
    keys.mkdir(mode=0o700)
    for name in ("api-key-pepper.key", "platform-digest.key"):
        path = keys / name
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        path.chmod(0o600)
    return keys


def _data_dir(base: Path, name: str, keys: Path) -> Path:
    directory = base / name
    directory.mkdir(mode=0o700)
    if keys.is_dir():
        shutil.copytree(keys, directory / "keys")  # the key files, distributed to every machine (modes kept)
    return directory


@contextlib.contextmanager
def fleet() -> Iterator[Fleet]:
    base = Path(tempfile.mkdtemp(prefix="bastion-twoservers-"))
    processes: list[Process] = []
    try:
        with redis_server(base) as redis_url, moto_server() as moto:
            s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
            s3.create_bucket(Bucket="bastion-objects")
            s3.create_bucket(Bucket="bastion-anchors", ObjectLockEnabledForBucket=True)
            s3.put_object_lock_configuration(Bucket="bastion-anchors", ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}})
            database = postgres_database()
            ports = {"a": free_port(), "b": free_port()}
            balancer_port = free_port()
            balancer = f"http://127.0.0.1:{balancer_port}"
            env = {key: value for key, value in os.environ.items()
                   if not key.startswith(("BASTION_", "DATABASE_", "DJANGO_", "REDIS_", "PROMETHEUS_", "PYTEST"))}
            env.update(CREDENTIALS)
            env.update({
                "DATABASE_URL": database["DATABASE_URL"],
                "DATABASE_ADMIN_URL": database["DATABASE_ADMIN_URL"],
                "REDIS_URL": redis_url,
                "BASTION_SERVERS": "2",
                "BASTION_SECRET_KEY": secrets.token_urlsafe(48),
                "BASTION_TRUSTED_PROXIES": "127.0.0.1",
                "BASTION_KMS": "aws-kms",
                "BASTION_AWS_KMS_ENDPOINT_URL": moto,
                "BASTION_STORAGE_URL": f"s3://bastion-objects/evidence?endpoint_url={moto}&region=us-east-1",
                "BASTION_AUDIT_ANCHOR_URL": f"s3://bastion-anchors/audit?endpoint_url={moto}&region=us-east-1",
                "BASTION_AUDIT_CHECKPOINT_SECONDS": "3600",
                "BASTION_BACKUP_ENABLED": "false",
                "BASTION_ENVIRONMENT": "staging",
                "BASTION_STATUS_PROBE_URL": balancer,
                # The shared-limit test uses CSP reports (10 an hour per address); the load tests write a lot.
                "BASTION_RATE_LIMIT_CSP_REPORT_IP": "10/h",
                "BASTION_RATE_LIMIT_API_WRITE_IDENTITY": "100000/m",
                "BASTION_RATE_LIMIT_API_WRITE_ORGANISATION": "100000/m",
                "BASTION_RATE_LIMIT_API_READ_IDENTITY": "100000/m",
                "BASTION_RATE_LIMIT_API_READ_ORGANISATION": "100000/m",
                "PYTHONPATH": str(ROOT),
            })
            operator = base / "operator"
            operator.mkdir(mode=0o700)
            keys = _shared_key_files(operator)
            current = Fleet(env, base, balancer, redis_url, database["SUPERUSER_URL"], {})
            started = time.monotonic()
            migrated = current.bastion("migrate", "--quiet", timeout=300)
            assert migrated.returncode == 0, migrated.stderr[-3000:]
            timings = {"migrate": time.monotonic() - started}
            # The servers and workers start while the seed runs (each Python start is seconds here).
            for name, port in ports.items():
                data = _data_dir(base, f"server-{name}", keys)
                process = _start(f"server-{name}", [sys.executable, "-m", "bastion.cli", "serve", "--host", "127.0.0.1",
                                                    "--port", str(port), "--no-jobs", "--workers", "1"],
                                 {**env, "BASTION_DATA_DIR": str(data)}, base / f"server-{name}.log")
                process.url = f"http://127.0.0.1:{port}"
                processes.append(process)
                current.servers[name] = process
            for name in ("a", "b"):
                data = _data_dir(base, f"worker-{name}", keys)
                process = _start(f"worker-{name}", [sys.executable, "-m", "bastion.cli", "worker", "--workers", "2"],
                                 {**env, "BASTION_DATA_DIR": str(data)}, base / f"worker-{name}.log")
                processes.append(process)
                current.workers[name] = process
            current.seed = current.step("seed")
            timings["seed"] = time.monotonic() - started
            for process in current.servers.values():
                _wait_http(process.url + "/healthz", process)
            (base / "haproxy.cfg").write_text(haproxy_config(balancer_port, ports))
            check = subprocess.run([HAPROXY, "-c", "-f", str(base / "haproxy.cfg")], capture_output=True, text=True)
            assert check.returncode == 0, check.stdout + check.stderr
            haproxy = _start("haproxy", [HAPROXY, "-db", "-f", str(base / "haproxy.cfg")], os.environ.copy(),
                             base / "haproxy.log")
            processes.append(haproxy)
            _wait_http(balancer + "/healthz", haproxy, timeout=30)
            for worker in current.workers.values():
                assert worker.alive(), worker.text()[-3000:]
            timings["ready"] = time.monotonic() - started
            print(f"two servers: ready in {timings}", file=sys.stderr)
            yield current
    finally:
        for process in processes:
            process.signal(signal.SIGTERM)
        for process in processes:
            process.stop()
        shutil.rmtree(base, ignore_errors=True)


# --- steps, run in an operator's process of the installation ------------------------------------------------

def _seed() -> dict:
    """The demo's two organisations (``acme`` and the outsider ``globex``) and their users of every role,
    smaller than ``bastion demo``'s (one project of 12 records each, written through the audited action
    as a person's edit is), plus an authenticator app for two acme users and an API key per organisation."""
    import datetime
    from decimal import Decimal

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model

    from bastion import demo
    from bastion.records.editing import save_record
    from bastion.records.models import EmissionRecord, Supplier
    from bastion.tenancy import actions, context
    from bastion.tenancy.api_keys import create as create_api_key
    from bastion.tenancy.models import Membership

    users = get_user_model().objects
    seeded: dict = {"totp": {}, "projects": {}, "api_keys": {}}
    for slug, (name, workspaces, sites) in demo.ORGANISATIONS.items():
        people = {role: users.create_user(email=f"{role}@{slug}.example", password=PASSWORD, first_name=role.title(),
                                          email_verified=True) for role in demo.ROLES}
        organisation = actions.create_organisation(name=name, slug=slug, owner=people["owner"])
        with context.tenant_context(organisation.id):
            for role in demo.ROLES[1:]:
                actions.add_membership(organisation, user=people[role], role=role)
            workspace = actions.create_workspace(organisation, name=workspaces[0])
            project = actions.create_project(workspace, name="FY2025 GHG inventory")
            supplier = save_record(Supplier, project, {"name": demo.SUPPLIERS[0][0], "country": demo.SUPPLIERS[0][1]})
            for month in range(1, 13):
                scope, category, activity, unit, (low, _) = demo.EMISSION_TEMPLATES[month % len(demo.EMISSION_TEMPLATES)]
                save_record(EmissionRecord, project, {
                    "scope": scope, "category": category, "activity": activity, "quantity": Decimal(low + month),
                    "unit": unit, "period_start": datetime.date(2025, month, 1),
                    "period_end": datetime.date(2025, month, 28), "site": sites[month % len(sites)],
                    "supplier": supplier if scope == 3 else None})
            grants = list(Membership.objects.filter(user=people["owner"]))
            _, token = create_api_key(organisation, name="Two servers", scopes=["records.view", "records.edit"],
                                      expires_in_days=2, creator=people["owner"], creator_grants=grants)
        seeded["projects"][slug] = str(project.id)
        seeded["api_keys"][slug] = token
    for email in ("owner@acme.example", "admin@acme.example"):
        secret = generate_totp_secret()
        TOTP.activate(users.get(email=email), secret)
        seeded["totp"][email] = secret
    return seeded


def _enqueue(name: str, count: str = "1") -> dict:
    """Put ``count`` runs of the job ``name`` on the shared queue (what the workers consume)."""
    from bastion.operations import tasks

    return {"ids": [getattr(tasks, name)().id for _ in range(int(count))]}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bastion.settings")
    import django

    django.setup()
    from bastion.audit.context import SYSTEM, acting_as

    steps = {"seed": _seed, "enqueue": _enqueue}
    with acting_as(SYSTEM):
        print(json.dumps(steps[argv[0]](*argv[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
