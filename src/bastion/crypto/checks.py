"""Deployment checks of the key store: the data dir and every key file under it are their owner's
alone (the same rule ``check_private_file`` enforces when a key is read)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from bastion.config import ConfigError, check_private_file
from bastion.crypto.keyfiles import key_directory


@register(Tags.security, deploy=True)
def check_key_files(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    data_dir = Path(settings.DATA_DIR)
    mode = stat.S_IMODE(data_dir.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        problems.append(Error(f"The data dir {data_dir} is open to group or others (mode {mode:04o})",
                              hint=f"chmod 700 {data_dir}", id="bastion.E402"))
    directory = key_directory()
    if directory.is_dir():
        for path in sorted(directory.rglob("*")):
            if not path.is_file():
                continue
            try:
                check_private_file(path)
            except ConfigError as exc:
                problems.append(Error(str(exc), hint=exc.hint, id="bastion.E401"))
    return problems
