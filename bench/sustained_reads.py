"""Sustained API reads: ``bastion serve`` with 2 gunicorn workers, loaded by ``wrk`` on loopback, the
50-row API list through every layer (an API key in the header) vs a bare view of the same query.

    uv run python bench/sustained_reads.py [--duration S] [--connections N] [--rounds R]   # SQLite
    eval "$(scripts/postgres-setup)" && uv run python bench/sustained_reads.py             # PostgreSQL

The bare view exists only in this bench's server: it is started with ``DJANGO_SETTINGS_MODULE=_bench_settings``
and ``bench/`` on its ``PYTHONPATH`` (``_bench_settings``, ``_bench_urls``); Bastion's own settings have
no such URL. The rate limits are counted as always but set high enough never to refuse the load.
Rounds alternate (layers, bare, layers, bare …) so drift is shared; the medians and their ratio are printed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _setup import ROOT, acme_with_records, setup_database

WRK = shutil.which("wrk") or "/usr/bin/wrk"


def _database_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _prepare() -> tuple[dict[str, str], str, str]:
    """A migrated database with an organisation, 500 records and an API key: the server's
    environment, the API list's path and the key's token."""
    if os.environ.get("DATABASE_URL"):
        setup_database()  # test_<name>, created and dropped by this process
    else:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)  # the server's own SQLite file, in BASTION_DATA_DIR
    from django.db import connection

    from bastion.tenancy import api_keys, context
    from bastion.tenancy.models import Membership

    user, organisation, project = acme_with_records()
    with context.tenant_context(organisation.id):
        _key, token = api_keys.create(organisation, name="bench", scopes=["records.view"], expires_in_days=1,
                                      creator=user, creator_grants=list(Membership.objects.filter(user=user)))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "_bench_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "BASTION_BENCH_ORGANISATION_ID": str(organisation.id),
        "BASTION_BENCH_PROJECT_ID": str(project.id),
        "BASTION_RATE_LIMIT_API_READ_IDENTITY": "100000000/m",
        "BASTION_RATE_LIMIT_API_READ_ORGANISATION": "100000000/m",
    }
    if connection.vendor == "postgresql":
        name = connection.settings_dict["NAME"]
        for variable in ("DATABASE_URL", "DATABASE_ADMIN_URL"):
            if os.environ.get(variable):
                env[variable] = _database_url(os.environ[variable], name)
    connection.close()
    return env, f"/api/v1/orgs/acme/projects/{project.id}/emissions?page_size=50", token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)  # the bench's own loopback server
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _wait_until_up(server: subprocess.Popen, port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            if _get(port, "/healthz", {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz in time")


def _wrk(url: str, script: Path, *, duration: int, connections: int) -> float:
    result = subprocess.run([WRK, "-t1", f"-c{connections}", f"-d{duration}s", "-s", str(script), url],
                            capture_output=True, text=True, timeout=duration + 60, check=True)
    if "Non-2xx or 3xx responses" in result.stdout or "Socket errors" in result.stdout:
        raise SystemExit(f"wrk saw failed requests against {url}:\n{result.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if found is None:
        raise SystemExit(f"no Requests/sec in wrk's output:\n{result.stdout}{result.stderr}")
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs of each, alternating")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not Path(WRK).exists():
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    env, api_path, token = _prepare()
    port = _free_port()
    work = Path(tempfile.mkdtemp(prefix="bastion-wrk-"))
    script = work / "headers.lua"
    script.write_text(f'wrk.headers["Authorization"] = "Bearer {token}"\n')  # sent to both: the same bytes each way
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "bastion.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(args.workers), "--no-jobs"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(server, port, time.monotonic() + 120)
        headers = {"Authorization": f"Bearer {token}"}
        for path in (api_path, "/bare/"):
            status, body = _get(port, path, headers)
            assert status == 200 and body.count(b'"activity"') == 50, (path, status, body[:300])
        base = f"http://127.0.0.1:{port}"
        warm = max(1, args.duration // 5)
        _wrk(base + api_path, script, duration=warm, connections=args.connections)
        _wrk(base + "/bare/", script, duration=warm, connections=args.connections)
        layers, bare = [], []
        for _ in range(args.rounds):
            layers.append(_wrk(base + api_path, script, duration=args.duration, connections=args.connections))
            bare.append(_wrk(base + "/bare/", script, duration=args.duration, connections=args.connections))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    vendor = "postgresql" if env.get("DATABASE_URL") else "sqlite"
    f, b = statistics.median(layers), statistics.median(bare)
    print(f"database: {vendor}; bastion serve --workers {args.workers}; wrk -t1 -c{args.connections} "
          f"-d{args.duration}s x {args.rounds} rounds each, 50 rows per response")
    print(f"all layers (API key):  {f:,.1f} requests/s  (runs: {', '.join(f'{x:,.1f}' for x in layers)})")
    print(f"bare Django view:      {b:,.1f} requests/s  (runs: {', '.join(f'{x:,.1f}' for x in bare)})")
    print(f"ratio (layers / bare): {f / b:.2f} (target >= 0.7)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
