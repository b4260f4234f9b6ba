"""Key files under ``$BASTION_DATA_DIR/keys/``: made with mode 0600, refused when others can read them."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from django.conf import settings

from bastion.config import ConfigError, check_private_file


def key_directory() -> Path:
    return Path(settings.DATA_DIR) / "keys"


def check_key_directory() -> None:
    """Every command and every server process refuses to start while any key file is exposed."""
    directory = key_directory()
    if not directory.is_dir():
        return
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            check_private_file(path)


def read_or_create(name: str, size: int = 32) -> bytes:
    """A random key of ``size`` bytes kept base64-encoded in ``keys/<name>`` (created 0600, never rewritten)."""
    path = key_directory() / name
    if not path.exists():
        # Every directory down to the file private, not just the last one (``parents=True``
        # would make the intermediate ones with the default mode).
        key_directory().mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(base64.b64encode(secrets.token_bytes(size)).decode() + "\n")
    check_private_file(path)
    key = base64.b64decode(path.read_text().strip())
    if len(key) != size:
        raise ConfigError(f"key file {path} does not hold a {size}-byte key")
    return key
