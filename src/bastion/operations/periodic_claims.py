"""Each periodic job runs once per scheduled minute, however many workers run.

Every ``bastion worker`` (and the consumer embedded in ``bastion serve``) runs Huey's scheduler,
which each minute enqueues every periodic task whose crontab matches that minute. With several
workers each one did: a minutely job ran once per worker each minute, and a daily one once per
worker each day (``lock_task`` only keeps two runs from overlapping in time, it does not stop a
second run of the same minute). So the scheduler first claims (minute, task) in the queue's own
storage, which every worker shares: Redis ``SET NX`` with an expiry, or SQLite's key-value table
(one machine; old claims are pruned); only the worker that made the claim enqueues the run. A
worker that dies takes nothing with it: the next minutes are claimed afresh by the survivors.

The ``huey_class`` of ``settings.HUEY`` is one of the classes below.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import huey

logger = logging.getLogger("bastion.operations")

CLAIM_SECONDS = 2 * 24 * 3600  # far longer than any scheduler's clock can lag behind another's
PREFIX = "periodic-claim:"


def slot(timestamp: datetime.datetime) -> str:
    """The scheduled minute a scheduler's tick stands for (Huey's timestamps are naive UTC)."""
    return timestamp.strftime("%Y-%m-%dT%H:%M")


def claim(storage: Any, minute: str, task_name: str) -> bool:
    """True for the first caller only, for each (minute, task), across every worker on ``storage``."""
    key = f"{PREFIX}{minute}:{task_name}"
    connection = getattr(storage, "conn", None)
    if connection is not None and hasattr(connection, "set"):  # Redis: one atomic SET NX EX
        return bool(connection.set(f"{storage.name}.{key}", b"1", nx=True, ex=CLAIM_SECONDS))
    claimed = bool(storage.put_if_empty(key, b"1"))
    if claimed and hasattr(storage, "sql"):  # SQLite: no expiry, so claims older than two days go
        oldest = datetime.datetime.strptime(minute, "%Y-%m-%dT%H:%M") - datetime.timedelta(seconds=CLAIM_SECONDS)
        storage.sql("delete from kv where queue = ? and key like ? and key < ?",
                    (storage.name, PREFIX + "%", PREFIX + slot(oldest)), commit=True)
    return claimed


class OncePerMinute:
    """Mixed into a Huey class: ``read_periodic`` (what the scheduler enqueues) keeps the claimed tasks."""

    def read_periodic(self, timestamp):
        if timestamp is None:
            timestamp = self._get_timestamp()  # type: ignore[attr-defined]
        due = super().read_periodic(timestamp)  # type: ignore[misc]
        minute, claimed = slot(timestamp), []
        for task in due:
            name = self._registry.task_to_string(type(task))  # type: ignore[attr-defined]
            if claim(self.storage, minute, name):  # type: ignore[attr-defined]
                claimed.append(task)
            else:
                logger.info("periodic task %s of %s: already claimed by another worker", name, minute)
        return claimed


class RedisHuey(OncePerMinute, huey.RedisHuey):
    pass


class SqliteHuey(OncePerMinute, huey.SqliteHuey):
    pass
