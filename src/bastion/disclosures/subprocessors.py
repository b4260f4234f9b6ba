"""The sub-processors the operator declares (``BASTION_SUBPROCESSORS``: a JSON list, or the path of
a file holding one), each with its name, purpose, location and safeguards, as published."""

from __future__ import annotations

import json
from pathlib import Path

from bastion.config import MALFORMED, ConfigError

FIELDS = ("name", "purpose", "location", "safeguards")


def parse(value: str) -> list[dict[str, str]]:
    """The declared list; a bad value is a ``ConfigError`` naming what is wrong."""
    if not value:
        return []
    text = value
    if not value.lstrip().startswith("["):
        try:
            text = Path(value).read_text()
        except OSError as exc:
            raise ConfigError(f"BASTION_SUBPROCESSORS: cannot read {value}: {exc.strerror}", check_id=MALFORMED) from exc
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"BASTION_SUBPROCESSORS is not JSON: {exc.msg} at line {exc.lineno}",
                          check_id=MALFORMED) from exc
    if not isinstance(entries, list):
        raise ConfigError("BASTION_SUBPROCESSORS must be a JSON list of objects", check_id=MALFORMED)
    found = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) and entry[f].strip() for f in FIELDS):
            raise ConfigError(f"BASTION_SUBPROCESSORS entry {number} needs each of {', '.join(FIELDS)} as text",
                              check_id=MALFORMED)
        found.append({f: entry[f].strip() for f in FIELDS})
    return found
