"""Work on a restored copy with the platform's own code (the audit verifier, the encrypted fields,
the migration executor): for the duration of a ``with`` block, this thread's ``default`` database
connection is the restored copy. Other threads, and this one afterwards, keep the live database.
Checkpoints signed in the copy are not anchored (``audit.checkpoints.unanchored``)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path

from django.db import connections

from bastion.audit.checkpoints import unanchored


@contextlib.contextmanager
def _swapped(overrides: dict) -> Iterator[None]:
    original = connections["default"]
    settings_dict = copy.deepcopy(original.settings_dict)
    settings_dict.update(overrides)
    restored = original.__class__(settings_dict, alias="default")
    connections["default"] = restored
    try:
        with unanchored():  # events written in the copy (an erasure replayed) are not the live chains'
            yield
    finally:
        restored.close()
        connections["default"] = original


def sqlite(path: Path) -> contextlib.AbstractContextManager[None]:
    return _swapped({"NAME": str(path), "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"}, "TEST": {}})


def postgresql(*, host: str, port: int, name: str, user: str = "postgres", password: str = "") -> contextlib.AbstractContextManager[None]:
    """A restored cluster, as its superuser (row-level security does not hide rows from it: a
    verification must see every organisation's chain)."""
    return _swapped({"HOST": host, "PORT": str(port), "NAME": name, "USER": user, "PASSWORD": password,
                     "OPTIONS": {}, "CONN_MAX_AGE": 0})
