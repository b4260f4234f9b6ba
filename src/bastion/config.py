"""Typed readers for environment configuration (12-factor).

Every setting Bastion reads comes through these helpers so that a bad value fails loudly with the
variable's name, and secrets can be given as ``NAME_FILE`` (a path) instead of ``NAME``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def env(name: str, default: str | None = None) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={file_path!r} cannot be read: {exc.strerror}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = env(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} is below the minimum of {minimum}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = env(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir() -> Path:
    """``BASTION_DATA_DIR`` (default ``./.bastion``): SQLite database, local keys, local objects."""
    return Path(env("BASTION_DATA_DIR", "./.bastion") or "./.bastion").resolve()


def check_private_file(path: Path, what: str = "key file") -> None:
    """Refuse a secret file (a key, a database) that group or others could read or write."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{what} {path} is readable by group or others (mode {mode:04o}); run: chmod 600 {path}")


# The embedded databases and their SQLite companions: sessions, password hashes, the job queue.
DATA_FILES = ("bastion.sqlite3", "jobs.sqlite3", "secret_key")
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_data_dir(directory: Path, create: tuple[str, ...] = ()) -> Path:
    """Make the data directory (0700) and its database files (0600) before anything opens them, and
    refuse to go on while any of them is open to group or others. SQLite gives its ``-wal`` and ``-shm``
    files the mode of the database file, so making that one 0600 covers them."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in create:
        try:
            os.close(os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    for name in DATA_FILES:
        for path in [directory / name, *(directory / f"{name}{suffix}" for suffix in SQLITE_COMPANIONS)]:
            if path.exists():
                check_private_file(path, "data file")
    return directory


def object_storage(url: str, default_directory: Path) -> dict:
    """The ``STORAGES["default"]`` entry for ``BASTION_STORAGE_URL``: empty for a local directory,
    ``file:///path`` for another directory, ``s3://bucket[/prefix][?endpoint_url=…&region=…]``."""
    from urllib.parse import parse_qs, urlsplit

    if not url:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(default_directory), "base_url": None}}
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "file" and parts.path:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": parts.path, "base_url": None}}
    if parts.scheme == "s3" and parts.netloc:
        unknown = set(query) - {"endpoint_url", "region"}
        if unknown:
            raise ConfigError(f"BASTION_STORAGE_URL: unknown option(s) {', '.join(sorted(unknown))} "
                              "(known: endpoint_url, region)")
        return {"BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": parts.netloc, "location": parts.path.strip("/"),
                            "endpoint_url": query.get("endpoint_url"), "region_name": query.get("region"),
                            "default_acl": None, "file_overwrite": False, "querystring_auth": True}}
    raise ConfigError(f"BASTION_STORAGE_URL={url!r}: use file:///directory or s3://bucket[/prefix]")
