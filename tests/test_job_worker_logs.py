"""The job worker's log lines come out once (the consumer's own handler, not also the root's)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from tests.live_server import ROOT

pytestmark = pytest.mark.own_cluster  # its own SQLite installation (bastion migrate and worker in subprocesses) whatever the suite's database


def test_the_job_worker_prints_each_line_once(tmp_path):
    env = {**os.environ, "BASTION_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("DATABASE_ADMIN_URL", None)
    subprocess.run([sys.executable, "-m", "bastion.cli", "migrate", "--quiet"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    worker = subprocess.Popen([sys.executable, "-m", "bastion.cli", "worker", "--workers", "1"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Read until two records after the start line: a second handler would print its copy of a record
    # before the next record, so a doubled start line is in by then. A deadline stops a silent worker.
    lines: list[str] = []
    deadline = threading.Timer(30, worker.terminate)
    deadline.start()
    try:
        for line in worker.stdout:
            lines.append(line)
            if any("Huey consumer started" in seen for seen in lines) and "Periodic tasks are enabled" in line:
                break
    finally:
        deadline.cancel()
        worker.terminate()
        rest, _ = worker.communicate(timeout=10)
    output = "".join(lines) + rest
    assert "Periodic tasks are enabled" in output, output
    assert output.count("Huey consumer started") == 1, output
