"""Fixtures of the staff access tests: staff of each role signed in with the second factor their
role needs, a movable clock for grants, and reading the emails the real SMTP server received."""

from __future__ import annotations

import datetime
import re
from types import SimpleNamespace

import pytest
from django.utils import timezone

from bastion.support_access import clock


@pytest.fixture
def staff(world, client_for, django_user_model):
    """Two support and two security staff (so a colleague exists), each with a signed-in client."""
    users = {name: django_user_model.objects.create_user(email=f"{name}@staff.example", staff_role=name.rstrip("2"),
                                                         email_verified=True)
             for name in ("support", "support2", "security", "security2")}
    return SimpleNamespace(users=users, clients={name: client_for(user) for name, user in users.items()})


@pytest.fixture
def move_clock(monkeypatch):
    """``move_clock(minutes)``: the grants' clock that many minutes ahead of the real one."""
    offset = datetime.timedelta()

    def now():
        return timezone.now() + offset

    monkeypatch.setattr(clock, "now", now)

    def move(minutes: float) -> None:
        nonlocal offset
        offset += datetime.timedelta(minutes=minutes)

    return move


def mails_to(inbox, address: str) -> list:
    return [m for m in inbox.messages if address in m["To"]]


def body(message) -> str:
    return message.get_payload(decode=True).decode() if not message.is_multipart() else \
        message.get_payload(0).get_payload(decode=True).decode()


def signed_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/o/\S+/security/access/\S+/\?t=\S+)", body(message)).group(1)
