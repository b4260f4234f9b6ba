"""The DR drill's offsite check, against pgBackRest itself: the session's cluster whose repo2 is S3
(moto behind a TLS terminator, tests/backups/pg_peer.py). None, too old, or a configuration without
repo2 fails the check; a fresh full backup in repo2 passes it, with its age reported."""

from __future__ import annotations

import datetime

import pytest

from bastion.backups import dr_offsite
from bastion.backups.pgbackrest import LocalRepo

pytestmark = pytest.mark.own_cluster


def test_the_offsite_repository_must_hold_a_recent_backup(peer, monkeypatch):
    now = datetime.datetime.now(datetime.UTC)
    local_only = peer.config_with("local-only.conf", [LocalRepo(peer.base / "repo1")])
    check = dr_offsite.check(local_only, 26, now)
    assert (check.name, check.ok) == ("offsite backup", False) and "no offsite repository (repo2)" in check.detail

    empty = peer.config_with("empty-offsite.conf", [LocalRepo(peer.base / "repo1"), LocalRepo(peer.base / "repo2-empty")])
    check = dr_offsite.check(empty, 26, now)
    assert not check.ok and "repo2" in check.detail, check.detail

    peer.pgbackrest.backup("full", 2)
    fresh = dr_offsite.check(peer.pgbackrest, 26, datetime.datetime.now(datetime.UTC))
    assert fresh.ok, fresh.detail
    assert "newest in repo2 (offsite): full backup " in fresh.detail and "bound 26 h" in fresh.detail
    hours = float(fresh.detail.split(", ")[-2].removesuffix(" h old"))
    assert 0 <= hours < 0.1
    stale = dr_offsite.check(peer.pgbackrest, 26, datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=27))
    assert not stale.ok and "bound 26 h" in stale.detail, stale.detail

    monkeypatch.setenv("BASTION_DR_OFFSITE_MAX_AGE_HOURS", "soon")
    with pytest.raises(ValueError, match="BASTION_DR_OFFSITE_MAX_AGE_HOURS"):
        dr_offsite.max_age_hours()
    monkeypatch.setenv("BASTION_DR_OFFSITE_MAX_AGE_HOURS", "2.5")
    assert dr_offsite.max_age_hours() == 2.5
