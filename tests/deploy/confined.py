"""Run a ``bastion`` command as the container runs it, without a container engine.

bubblewrap (as root) builds a mount namespace whose whole root filesystem is a read-only bind of
the host's, with only the data directory writable, a fresh tmpfs at ``/tmp`` and a tmpfs over
``/root`` holding nothing but a read-only bind of the Python installation (the venv's interpreter
lives under ``/root/.pyenv``, which the unprivileged user could not otherwise reach). Inside it,
``setpriv`` becomes an unprivileged UID/GID with no supplementary groups, clears the inheritable,
ambient and bounding capability sets and sets no_new_privs before ``exec``-ing Python: the process
holds no capability at all, as with ``cap_drop: [ALL]`` and ``allowPrivilegeEscalation: false``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UID = GID = 65534  # nobody:nogroup — no file on the host belongs to it


def python_home() -> Path:
    """The directory of the real interpreter behind the venv (``sys.base_prefix``)."""
    return Path(sys.base_prefix).resolve()


def prepare_data_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, UID, GID)
    path.chmod(0o700)
    return path


def command(argv: list[str], data_dir: Path) -> list[str]:
    """``argv`` (a program and its arguments) confined as described above."""
    wrap = [
        "bwrap",
        "--die-with-parent",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
    ]
    for parent in reversed(data_dir.parents):  # the data dir's parents inside the new /tmp: traversable
        if parent.is_relative_to("/tmp") and parent != Path("/tmp"):
            wrap += ["--perms", "0755", "--dir", str(parent)]
    wrap += ["--bind", str(data_dir), str(data_dir)]
    if ROOT.is_relative_to("/tmp"):  # a checkout under /tmp (a clean clone) would vanish under the new /tmp
        for parent in reversed(ROOT.parents):
            if parent.is_relative_to("/tmp") and parent != Path("/tmp"):
                wrap += ["--perms", "0755", "--dir", str(parent)]
        wrap += ["--ro-bind", str(ROOT), str(ROOT)]
    home = python_home()
    if str(home).startswith("/root/"):
        wrap += ["--tmpfs", "/root", "--ro-bind", str(home), str(home)]
    drop = [
        shutil.which("setpriv") or "setpriv",
        f"--reuid={UID}",
        f"--regid={GID}",
        "--clear-groups",
        "--inh-caps=-all",
        "--ambient-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]
    return [*wrap, "--", *drop, *argv]


def environment(data_dir: Path, **extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BASTION_", "DATABASE_", "DJANGO_", "REDIS_", "PROMETHEUS_", "PYTEST"))
    }
    env.update(
        BASTION_DATA_DIR=str(data_dir),
        HOME=str(data_dir),
        TMPDIR="/tmp",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def bastion(args: list[str], data_dir: Path) -> list[str]:
    return command([sys.executable, "-m", "bastion.cli", *args], data_dir)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")


def run(args: list[str], data_dir: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        bastion(args, data_dir), env=env, cwd=data_dir, capture_output=True, text=True, timeout=timeout
    )
