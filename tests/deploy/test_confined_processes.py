"""The constraints the image and the manifests put on Bastion, applied to the real processes.

No container engine runs here, so the test does what the runtime would: ``bastion serve`` and a
separate ``bastion worker`` run as an unprivileged UID with no capability at all (setpriv: every
set cleared, no_new_privs) on a read-only root filesystem where only the data directory and a tmpfs
at /tmp are writable (bubblewrap) — ``tests/deploy/confined.py``. The platform must then work: the
health probe, the sign-in page, a signed-in API call (and the outsider's 404), and a job enqueued
and run by the worker. It runs its own SQLite installation in subprocesses, hence ``own_cluster``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import requests

from tests.deploy import confined
from tests.live_server import free_port

pytestmark = pytest.mark.own_cluster

PASSWORD = "confined demo password 1"


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"bastion serve exited {process.returncode}:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"bastion serve never answered /healthz:\n{log.read_text()[-3000:]}")


def _python_processes(root_pid: int) -> list[int]:
    """The Python processes under ``root_pid`` (not bubblewrap itself, which runs as root to set up
    the mounts and whose arguments name the command too)."""
    return [
        pid
        for pid in confined.process_tree(root_pid)
        if Path(confined.cmdline(pid)[0]).name.startswith("python")
        and any("bastion.cli" in part for part in confined.cmdline(pid))
    ]


def _assert_unprivileged(root_pid: int) -> int:
    pids = _python_processes(root_pid)
    assert pids, "no bastion process found under the sandbox"
    for pid in pids:
        status = confined.status(pid)
        assert status["Uid"].split() == [str(confined.UID)] * 4, status["Uid"]
        assert status["Gid"].split() == [str(confined.GID)] * 4, status["Gid"]
        assert status["Groups"].strip() == "", status["Groups"]
        for capability_set in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(status[capability_set], 16) == 0, (capability_set, status[capability_set])
        assert status["NoNewPrivs"].strip() == "1"
        mounts = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
        root = next(line.split() for line in mounts if line.split()[4] == "/")
        assert "ro" in root[5].split(","), f"the root filesystem is writable: {root}"
    return len(pids)


def test_the_sandbox_allows_writes_only_to_the_data_dir_and_tmp(tmp_path):
    data = confined.prepare_data_dir(tmp_path / "data")
    probe = (
        "for p in /work /etc /usr /var/tmp " + str(Path(confined.__file__).parent) + "; do "
        "touch $p/.x 2>/dev/null && echo WROTE $p; done; touch /tmp/x && echo tmp; "
        f"touch {data}/x && echo data; id -u"
    )
    result = subprocess.run(confined.command(["sh", "-c", probe], data), capture_output=True, text=True, timeout=30)
    assert result.stdout.split() == ["tmp", "data", str(confined.UID)], result


def test_serve_and_worker_run_unprivileged_on_a_read_only_root(tmp_path):
    data = confined.prepare_data_dir(tmp_path / "data")
    env = confined.environment(data, BASTION_DEMO_PASSWORD=PASSWORD)

    migrated = confined.run(["migrate"], data, env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    seeded = confined.run(["manage", "shell", "-c", f"from bastion import demo; demo.create({PASSWORD!r})"], data, env)
    assert seeded.returncode == 0, seeded.stderr[-3000:]

    port = free_port()
    url = f"http://localhost:{port}"
    serve_log, worker_log = data / "serve.log", data / "worker.log"
    with open(serve_log, "wb") as out:
        server = subprocess.Popen(
            confined.bastion(["serve", "--port", str(port), "--workers", "1", "--no-jobs"], data),
            env=env,
            cwd=data,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: see the finally below
        )
    with open(worker_log, "wb") as out:
        worker = subprocess.Popen(
            confined.bastion(["worker", "--workers", "1"], data),
            env=env,
            cwd=data,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: see the finally below
        )
    try:
        _wait_ready(url, server, serve_log)
        assert worker.poll() is None, worker_log.read_text()[-3000:]
        assert _assert_unprivileged(server.pid) >= 2  # the gunicorn master and its worker
        assert _assert_unprivileged(worker.pid) >= 1

        health = requests.get(url + "/healthz", timeout=10)
        assert (health.status_code, health.text) == (200, "ok\n")

        browser = requests.Session()
        page = browser.get(url + "/accounts/login/", timeout=10)
        assert page.status_code == 200 and 'name="password"' in page.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        signed_in = browser.post(
            url + "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "login": "viewer@acme.example", "password": PASSWORD},
            headers={"Referer": url + "/accounts/login/", "Origin": url},
            allow_redirects=False,
            timeout=30,
        )
        assert signed_in.status_code == 302, signed_in.text[-2000:]
        own = browser.get(url + "/api/v1/orgs/acme", timeout=10)
        assert own.status_code == 200 and own.json()["slug"] == "acme", own.text
        outsider = browser.get(url + "/api/v1/orgs/globex", timeout=10)
        assert outsider.status_code == 404, outsider.text

        # A job goes through the queue in the data dir and only the worker consumes it (periodic
        # jobs keep no result, so its run is read from the worker's log by the task's id).
        job = confined.run(
            [
                "manage",
                "shell",
                "-c",
                "from bastion.operations.tasks import audit_checkpoints; print('task', audit_checkpoints().id)",
            ],
            data,
            env,
            timeout=120,
        )
        assert job.returncode == 0, job.stderr[-3000:]
        task_id = re.search(r"^task (\S+)$", job.stdout, re.M).group(1)
        deadline = time.monotonic() + 90
        while not re.search(rf"{re.escape(task_id)} executed in", worker_log.read_text()):
            assert time.monotonic() < deadline, f"the worker never ran {task_id}:\n{worker_log.read_text()[-3000:]}"
            assert worker.poll() is None, worker_log.read_text()[-3000:]
            time.sleep(0.5)
        assert "Traceback" not in worker_log.read_text() + serve_log.read_text()
    finally:
        # The whole group: bwrap's --die-with-parent does not reach past setpriv's change of user (the
        # kernel clears the parent-death signal then), so ending bwrap alone left serve and worker running.
        for process in (server, worker):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
