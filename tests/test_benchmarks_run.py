"""Every benchmark in bench/ still runs, in a short mode (a handful of iterations, on a throw-away
SQLite database): no timing is asserted — the figures are read by people, from bench/README.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SHORT = {
    "record_list.py": ["--requests", "2"],
    "read_access_log.py": ["--requests", "2"],
    "metrics_overhead.py": ["--requests", "2"],
    "crypto.py": ["--short"],
    "login.py": ["--short"],
    "audit.py": ["--writes", "2", "--chain", "20", "--every", "5"],
    "security_monitoring.py": ["--writes", "2", "--events", "20"],
    "status_summary.py": ["--every", "600"],
    "backup.py": ["--megabytes", "1", "--interval", "0.5"],
    "sustained_reads.py": ["--duration", "1", "--rounds", "1", "--connections", "2"],
}
# Threads writing at once: SQLite's in-memory test database refuses them ("table is locked"); these run on
# PostgreSQL only (marked own_cluster: the PostgreSQL pass runs them, on a database of their own).
POSTGRES_ONLY = {"audit.py", "security_monitoring.py"}
# Exit status 1 is the bench's own verdict on a timing target (e.g. metrics_overhead's 5 %), not a failure to run.
VERDICT_EXITS = {"metrics_overhead.py": {0, 1}, "audit.py": {0, 1}, "security_monitoring.py": {0, 1}}


def test_every_benchmark_has_a_short_mode():
    scripts = {path.name for path in (ROOT / "bench").glob("*.py") if not path.name.startswith("_")}
    assert scripts == set(SHORT)


# Every bench builds its own database (a throw-away SQLite one, or test_<name>_bench for the
# PostgreSQL-only ones), so it gives the same result in both CI passes: marked own_cluster, it runs once,
# in the PostgreSQL pass.
@pytest.mark.own_cluster
@pytest.mark.parametrize("script", sorted(SHORT))
def test_the_benchmark_runs(script, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    if script in POSTGRES_ONLY and env.get("DATABASE_URL"):
        # Not the suite's own test database: the bench makes and drops test_<name>_bench.
        for name in ("DATABASE_URL", "DATABASE_ADMIN_URL"):
            if env.get(name):
                env[name] += "_bench"
    else:
        if script in POSTGRES_ONLY:
            pytest.skip("threads writing at once need PostgreSQL")
        env.pop("DATABASE_URL", None)
        env.pop("DATABASE_ADMIN_URL", None)
    env["BASTION_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, f"bench/{script}", *SHORT[script]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode in VERDICT_EXITS.get(script, {0}), result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
