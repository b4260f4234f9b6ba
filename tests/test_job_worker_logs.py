"""The job worker's log lines come out once (the consumer's own handler, not also the root's)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.live_server import ROOT


def test_the_job_worker_prints_each_line_once(tmp_path):
    env = {**os.environ, "BASTION_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("DATABASE_ADMIN_URL", None)
    subprocess.run([sys.executable, "-m", "bastion.cli", "migrate", "--quiet"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    worker = subprocess.Popen([sys.executable, "-m", "bastion.cli", "worker", "--workers", "1"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = worker.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        worker.terminate()
        output, _ = worker.communicate(timeout=10)
    assert output.count("Huey consumer started") == 1, output
