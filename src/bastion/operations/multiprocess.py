"""prometheus-client's multiprocess mode: where every process writes its values, and its upkeep.

``PROMETHEUS_MULTIPROC_DIR`` must be in the environment before prometheus_client is first imported
(the value class is chosen then), so the CLI calls ``prepare`` first thing; nothing here imports
prometheus_client at module level. Values from a previous run would be added to this one's, so
the directory is emptied when a server (or a worker of its own) starts; a gunicorn worker that
exits is marked dead so its live gauges go with it (its counters stay: they were counted).
"""

from __future__ import annotations

import os
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def directory() -> Path | None:
    value = os.environ.get(VARIABLE)
    return Path(value) if value else None


def prepare(default: Path, *, wipe: bool) -> Path:
    """Use ``$PROMETHEUS_MULTIPROC_DIR`` (else ``default``) for this process and its children."""
    path = Path(os.environ.setdefault(VARIABLE, str(default)))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if wipe:
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
    return path


def mark_dead(pid: int) -> None:
    if directory() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def child_exit(server, worker) -> None:
    """gunicorn's ``child_exit`` hook."""
    mark_dead(worker.pid)
