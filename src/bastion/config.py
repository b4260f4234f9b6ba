"""Typed readers for environment configuration (12-factor).

Every setting Bastion reads comes through these helpers so that a bad value fails loudly with the
variable's name, and secrets can be given as ``NAME_FILE`` (a path) instead of ``NAME``.

While ``settings.py`` is read (between ``begin_reading()`` and ``finish_reading()``) a bad value is
noted and its default used, so that every problem is found in one pass: start-up then refuses them
all at once, and ``bastion config check`` (``collect_problems()``) lists each as a system check
(``bastion.E001``–``bastion.E007``, see docs/configuration.md). Outside that window the readers
raise at once, as before.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar, overload
from urllib.parse import urlsplit

T = TypeVar("T")

# What kind of problem a value has: the id of the system check that reports it.
MALFORMED = "bastion.E001"  # does not parse: not an integer, not a boolean, not an address
OUT_OF_RANGE = "bastion.E002"
UNKNOWN_VALUE = "bastion.E003"  # not one of the values this version knows
BAD_URL = "bastion.E004"
UNREADABLE_FILE = "bastion.E005"  # NAME_FILE names a file that cannot be read
EXPOSED_FILE = "bastion.E006"  # a secret file or the data dir open to group or others
CONFLICT = "bastion.E007"  # a retired name, or values that contradict each other

HINTS = {
    MALFORMED: "Correct the value (the message says what it must look like) or unset it for the default.",
    OUT_OF_RANGE: "Give a value within the range the message names, or unset it for the default.",
    UNKNOWN_VALUE: "Use one of the values the message lists.",
    BAD_URL: "Give a full URL of the scheme the message names (e.g. https://host/path).",
    UNREADABLE_FILE: "Point NAME_FILE at a file this user can read, or give the value in NAME itself.",
    EXPOSED_FILE: "Make the file readable by its owner only (chmod 600 FILE; chmod 700 for a directory).",
    CONFLICT: "Follow the message: rename the variable or change one of the values.",
}


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable, ``check_id``
    says what kind of problem it is and ``hint`` how to fix it."""

    def __init__(self, message: str, *, check_id: str = MALFORMED, hint: str = "") -> None:
        super().__init__(message)
        self.check_id = check_id
        self.hint = hint or HINTS.get(check_id, "")


_problems: list[ConfigError] | None = None  # while settings are read
_collected: list[ConfigError] | None = None  # kept for the checks when collect_problems() was called


def collect_problems() -> None:
    """``bastion config check``: settings keep their defaults for bad values instead of refusing to
    start, and the checks report each problem."""
    global _collected
    _collected = []


def collecting() -> bool:
    return _collected is not None


def collected_problems() -> list[ConfigError]:
    return list(_collected or [])


def begin_reading() -> None:
    global _problems
    _problems = []


def finish_reading() -> None:
    """End of ``settings.py``: refuse every problem found, in one message (or keep them for the checks)."""
    global _problems
    problems, _problems = _problems or [], None
    if _collected is not None:
        _collected[:] = problems
        return
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigError(f"{len(problems)} problems: " + "; ".join(str(problem) for problem in problems)
                          + " (`bastion config check` lists each with its fix)")


@overload
def report(error: ConfigError) -> None: ...
@overload
def report(error: ConfigError, fallback: T) -> T: ...
def report(error: ConfigError, fallback: T | None = None) -> T | None:
    """While settings are read: note ``error`` and go on with ``fallback``; otherwise raise it."""
    if _problems is None:
        raise error
    _problems.append(error)
    return fallback


def has_problem(name: str) -> bool:
    """Whether a problem naming ``name`` was noted while the settings are read."""
    return any(str(problem).startswith(name) for problem in _problems or [])


@contextlib.contextmanager
def reported() -> Iterator[None]:
    """Run a check that raises ``ConfigError`` (in settings), noting its error instead."""
    try:
        yield
    except ConfigError as exc:
        report(exc)


@overload
def env(name: str, default: str) -> str: ...
@overload
def env(name: str, default: None = None) -> str | None: ...
def env(name: str, default: str | None = None) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            return report(ConfigError(f"{name}_FILE={file_path!r} cannot be read: {exc.strerror}",
                                      check_id=UNREADABLE_FILE), default)
    return os.environ.get(name, default)


def is_set(name: str) -> bool:
    """Whether ``NAME`` or ``NAME_FILE`` is given (without reading the file)."""
    return bool(os.environ.get(name) or os.environ.get(f"{name}_FILE"))


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    return report(ConfigError(f"{name}={raw!r} is not a boolean (use true/false)"), default)


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = env(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return report(ConfigError(f"{name}={raw!r} is not an integer"), default)
    if minimum is not None and value < minimum:
        return report(ConfigError(f"{name}={value} is below the minimum of {minimum}", check_id=OUT_OF_RANGE),
                      default)
    if maximum is not None and value > maximum:
        return report(ConfigError(f"{name}={value} is above the maximum of {maximum}", check_id=OUT_OF_RANGE),
                      default)
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = env(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``, exactly as written there."""
    value = env(name, default) or default
    if value not in choices:
        return report(ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}", check_id=UNKNOWN_VALUE),
                      default)
    return value


def check_url(name: str, value: str, schemes: tuple[str, ...] = ("https",)) -> str:
    """``value`` as given when it is an absolute URL of one of ``schemes`` with a host, else a problem."""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return report(ConfigError(f"{name}={value!r} has a port that is not a number", check_id=BAD_URL), "")
    if parts.scheme not in schemes or not (parts.hostname or (parts.scheme == "unix" and parts.path)):
        return report(ConfigError(f"{name}={value!r} is not a {' or '.join(s + '://' for s in schemes)} URL "
                                  "with a host", check_id=BAD_URL), "")
    return value


def data_dir() -> Path:
    """``BASTION_DATA_DIR`` (default ``./.bastion``): SQLite database, local keys, local objects."""
    return Path(env("BASTION_DATA_DIR", "./.bastion") or "./.bastion").resolve()


def check_private_file(path: Path, what: str = "key file") -> None:
    """Refuse a secret file (a key, a database) that group or others could read or write."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{what} {path} is readable by group or others (mode {mode:04o}); run: chmod 600 {path}",
                          check_id=EXPOSED_FILE, hint=f"chmod 600 {path}")


# The embedded databases and their SQLite companions: sessions, password hashes, the job queue.
DATA_FILES = ("bastion.sqlite3", "jobs.sqlite3", "secret_key")
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_data_dir(directory: Path, create: tuple[str, ...] = ()) -> Path:
    """Make the data directory (0700) and its database files (0600) before anything opens them, and
    refuse to go on while any of them is open to group or others. SQLite gives its ``-wal`` and ``-shm``
    files the mode of the database file, so making that one 0600 covers them."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:  # nothing can go on without it: refused at once, even by `bastion config check`
        raise ConfigError(f"BASTION_DATA_DIR={str(directory)!r} cannot be made: {exc.strerror}",
                          check_id=UNREADABLE_FILE) from None
    for name in create:
        try:
            os.close(os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    for name in DATA_FILES:
        for path in [directory / name, *(directory / f"{name}{suffix}" for suffix in SQLITE_COMPANIONS)]:
            if path.exists():
                with reported():
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
                              "(known: endpoint_url, region)", check_id=BAD_URL)
        return {"BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": parts.netloc, "location": parts.path.strip("/"),
                            "endpoint_url": query.get("endpoint_url"), "region_name": query.get("region"),
                            "default_acl": None, "file_overwrite": False, "querystring_auth": True}}
    raise ConfigError(f"BASTION_STORAGE_URL={url!r}: use file:///directory or s3://bucket[/prefix]", check_id=BAD_URL)


def check_pkcs11(library: str, token_label: str) -> None:
    """``BASTION_KMS=pkcs11``: the module exists, a token is named, a PIN is given, and a PIN file is
    its owner's alone (a PIN readable by others is as good as no PIN)."""
    if not library or not Path(library).is_file():
        report(ConfigError(f"BASTION_PKCS11_LIBRARY={library!r} is not a PKCS#11 module file "
                           "(e.g. /usr/lib/softhsm/libsofthsm2.so)", check_id=UNREADABLE_FILE,
                           hint="Point BASTION_PKCS11_LIBRARY at the HSM vendor's PKCS#11 module."))
    if not token_label:
        report(ConfigError("BASTION_PKCS11_TOKEN_LABEL is not set: the token holding the keys is found by its label",
                           hint="Set BASTION_PKCS11_TOKEN_LABEL to the token's label."))
    if not is_set("BASTION_PKCS11_PIN"):
        report(ConfigError("BASTION_PKCS11_PIN (or BASTION_PKCS11_PIN_FILE) is not set: the token cannot be logged in",
                           hint="Give the user PIN in BASTION_PKCS11_PIN_FILE (a file only this user can read)."))
    pin_file = os.environ.get("BASTION_PKCS11_PIN_FILE")
    if pin_file and Path(pin_file).is_file():
        try:
            check_private_file(Path(pin_file), "BASTION_PKCS11_PIN_FILE")
        except ConfigError as exc:
            report(exc)
