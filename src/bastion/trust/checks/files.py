"""File modes in the data directory: no key, database or queue file readable by group or others."""

from __future__ import annotations

import stat
from pathlib import Path

from django.conf import settings

from bastion.config import DATA_FILES, SQLITE_COMPANIONS
from bastion.trust.checks import Outcome, check, failed, passed


@check("files.private_modes", "No key, database or queue file is readable by group or others")
def private_modes() -> Outcome:
    root = Path(settings.DATA_DIR)
    candidates = [root / name for name in DATA_FILES]
    candidates += [root / (name + suffix) for name in DATA_FILES for suffix in SQLITE_COMPANIONS]
    keys = root / "keys"
    if keys.is_dir():
        candidates += [path for path in keys.rglob("*") if path.is_file()]
    modes = {}
    for path in candidates:
        try:
            modes[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
    exposed = sorted(name for name, mode in modes.items() if mode & (stat.S_IRWXG | stat.S_IRWXO))
    evidence = {"data_dir": str(root), "modes": {name: f"{mode:04o}" for name, mode in sorted(modes.items())}}
    if exposed:
        return failed(f"readable by group or others: {', '.join(exposed)}", **evidence)
    return passed(f"{len(modes)} key, database and queue files are private to the service user", **evidence)
