"""Platform staff see the last restore drills' measured figures in the console (RTO, RPO, audit
events lost, when, the backup each proved); members of organisations get nothing."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from bastion.backups.models import Backup, Drill

pytestmark = pytest.mark.django_db


def _drills():
    now = timezone.now()
    backup = Backup.objects.create(engine="postgresql", type="full", label="20261130-120000F", status="ok",
                                   repository="repo2 (offsite)", started_at=now - datetime.timedelta(hours=2),
                                   finished_at=now - datetime.timedelta(hours=1),
                                   restore_point=datetime.datetime(2026, 11, 30, 12, 0, 5, tzinfo=datetime.UTC))
    Drill.objects.create(backup=backup, started_at=now - datetime.timedelta(minutes=10), ok=True,
                         finished_at=now - datetime.timedelta(minutes=9), target_time=now - datetime.timedelta(minutes=10),
                         rto_seconds=12.34, rpo_seconds=0.4, events_lost=0)
    Drill.objects.create(started_at=now - datetime.timedelta(minutes=5), finished_at=now, ok=False,
                         target_time=now - datetime.timedelta(days=3), rto_seconds=None, rpo_seconds=None,
                         message="restore: pgbackrest restore: unable to find a backup")


def test_staff_see_the_last_drills_figures(staff, client_for):
    _drills()
    page = client_for(staff).get("/status/admin/")
    assert page.status_code == 200
    section = page.content.decode().split('id="restore-drills"')[1].split("</section>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)[1:]
    assert len(rows) == 2
    failed, passed = (re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows)
    assert "latest passed 12.3 s 0.4 s 0 full backup 20261130-120000F of 2026-11-30 12:00:05 UTC in repo2 (offsite)" in passed
    assert "point in time" in failed and "FAILED: restore: pgbackrest restore: unable to find a backup" in failed


def test_members_of_organisations_do_not_see_them(world, client_for):
    _drills()
    for user in (world.acme.users["owner"], world.globex.users["owner"]):
        assert client_for(user).get("/status/admin/").status_code == 404
