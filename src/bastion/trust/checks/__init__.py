"""The registry of trust checks: each tests the running deployment (its database, its files, a live
response), never the unit tests. One module per group registers its checks with ``@check``."""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, UNKNOWN, NOT_APPLICABLE = "pass", "fail", "unknown", "not_applicable"
# How long a daily job's last run stays good evidence: a day, and a margin for a slow or late run.
DAILY_WINDOW = datetime.timedelta(hours=26)
GROUPS = ["identity", "database", "headers", "tls", "audit", "backups", "keys", "files", "operations"]


@dataclass(frozen=True)
class Outcome:
    result: str
    details: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    id: str
    version: int
    title: str
    run: Callable[[], Outcome]


_REGISTRY: dict[str, Check] = {}


def check(check_id: str, title: str, *, version: int = 1) -> Callable[[Callable[[], Outcome]], Callable[[], Outcome]]:
    def register(function: Callable[[], Outcome]) -> Callable[[], Outcome]:
        _REGISTRY[check_id] = Check(check_id, version, title, function)
        return function
    return register


def registry() -> dict[str, Check]:
    for group in GROUPS:
        importlib.import_module(f"bastion.trust.checks.{group}")
    return dict(sorted(_REGISTRY.items()))


def passed(details: str, **evidence: Any) -> Outcome:
    return Outcome(PASS, details, evidence)


def failed(details: str, **evidence: Any) -> Outcome:
    return Outcome(FAIL, details, evidence)
