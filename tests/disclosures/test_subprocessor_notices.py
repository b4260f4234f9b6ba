"""A change of ``BASTION_SUBPROCESSORS`` is recorded once (with its platform audit event) and
emailed to the status page's confirmed subscribers only; the first list is recorded silently.
Public information: no organisation is involved, and unconfirmed addresses (outsiders to the
mailing list) get nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bastion.audit.models import AuditEvent
from bastion.db import rls
from bastion.disclosures.audit_actions import SUBPROCESSORS_CHANGED
from bastion.disclosures.subprocessors import parse
from bastion.operations.models import Subscriber
from bastion.operations.subprocessor_notices import notice_changes

pytestmark = pytest.mark.django_db

MAILER = '{"name": "Mailer GmbH", "purpose": "email delivery", "location": "Germany", "safeguards": "DPA"}'
HOSTING = '{"name": "Hosting AG", "purpose": "hosting", "location": "Germany", "safeguards": "DPA, ISO 27001"}'


def test_a_changed_list_is_announced_to_confirmed_subscribers_once(settings, smtp):
    Subscriber.objects.create(email="confirmed@customer.example", confirmed=True, created_at=timezone.now())
    Subscriber.objects.create(email="pending@customer.example", confirmed=False, created_at=timezone.now())
    settings.BASTION_SUBPROCESSORS = parse(f"[{MAILER}]")
    assert notice_changes("https://bastion.example") is None  # the first list: recorded, not announced
    assert smtp.messages == []

    settings.BASTION_SUBPROCESSORS = parse(f"[{HOSTING}]")
    run = notice_changes("https://bastion.example")
    assert run is not None and run.sent == 1
    assert [m["To"] for m in smtp.messages] == ["confirmed@customer.example"]
    body = smtp.messages[0].get_payload()
    assert "Hosting AG" in body.split("Removed:")[0] and "Mailer GmbH" in body.split("Removed:")[1]
    assert "/status/unsubscribe/" in body

    assert notice_changes("https://bastion.example") is None  # unchanged: no second notice
    assert len(smtp.messages) == 1
    with rls.setting("bastion.scope", "platform"):
        events = list(AuditEvent.objects.filter(action=SUBPROCESSORS_CHANGED).order_by("seq"))
    assert [e.changes for e in events] == [{"added": ["Mailer GmbH"], "removed": []},
                                           {"added": ["Hosting AG"], "removed": ["Mailer GmbH"]}]
