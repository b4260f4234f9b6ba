"""The rate limits count in fixed windows (hardening.counters): a test that makes its requests
across a window's end would see its count start again. Their clock is stopped here."""

from __future__ import annotations

import types

import pytest

from bastion.hardening import rate_limits


@pytest.fixture(autouse=True)
def rate_limit_clock(monkeypatch):
    stopped = types.SimpleNamespace(time=lambda: 1_900_000_030.0)
    monkeypatch.setattr(rate_limits, "clock", stopped.time)
    return stopped
