"""Erasure of a person: every table scanned afterwards for their email, name and address."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.db import connection

from bastion.audit import export, offline, personal
from bastion.audit.models import AuditEvent
from bastion.audit.verification import verify_chain
from bastion.db import rls
from bastion.identity.audit_actions import AUTH_LOGIN_SUCCEEDED
from bastion.identity.models import Invitation
from bastion.privacy import erasure
from bastion.tenancy import context
from bastion.tenancy.models import Membership, Organisation
from tests.privacy.conftest import PERSON_IP

# Every table, the audit log's included: people are in it only as pseudonyms (format bastion-audit/2).
NOT_SCANNED: set[str] = set()


def _rows_mentioning(needles: list[str]) -> dict[str, list[str]]:
    """Every row of every table (all models Django knows, allauth's and Django's own included) whose text
    contains one of ``needles``; on PostgreSQL each organisation's rows are read in its own context."""
    with context.platform_scope():
        organisation_ids = list(Organisation.objects.values_list("id", flat=True))
    found: dict[str, list[str]] = {}
    tables = sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True)} - NOT_SCANNED)
    for organisation_id in organisation_ids:
        with context.tenant_context(organisation_id), rls.setting("bastion.scope", "platform"):
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
                    for row in cursor.fetchall():
                        text = " ".join(str(v) for v in row).lower()
                        hits = [n for n in needles if n.lower() in text]
                        if hits:
                            found.setdefault(table, []).append(f"{hits}: {text[:200]}")
    return found


def test_after_erasure_no_table_holds_the_persons_email_name_or_address(world, person, person_client):
    assert person_client.get("/api/v1/me/privacy").status_code == 200  # a session from the person's address
    assert person_client.post("/api/v1/me/export").status_code == 202
    with context.tenant_context(world.globex.organisation.id):  # another organisation invited them
        from bastion.crypto import api_keys

        link = api_keys.generate()
        Invitation.objects.create(organisation=world.globex.organisation, email=person.email, role="viewer",
                                  invited_by=world.globex.users["owner"], public_id=link.public_id,
                                  secret_hash=link.secret_hash,
                                  expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=7))
    from bastion.privacy.models import SubjectRequest

    SubjectRequest.objects.create(kind="erasure", requester_email=person.email.upper(), user=None,
                                  received_at=datetime.datetime.now(datetime.UTC),
                                  deadline=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30))
    needles = [person.email, person.first_name, person.last_name, PERSON_IP]
    before = _rows_mentioning(needles)
    assert "identity_user" in before and "usersessions_usersession" in before  # the scan sees what is there

    result = erasure.erase_person(person.pk)

    assert not result.suspended and not result.already_erased
    erased = {item.what for item in result.erased}
    assert "memberships in organisation acme" in erased
    assert "invitations in organisation globex" in erased
    assert any("sessions" in what for what in erased)
    assert all(item.why for item in result.kept)  # each thing kept says under which duty
    assert _rows_mentioning(needles) == {}
    # The person's events are still in the organisation's chain, which verifies (in the database and
    # offline, from its export), and neither the events nor the export name them any more.
    acme = str(world.acme.organisation.id)
    exported = "".join(export.export_lines(acme))
    assert not [n for n in needles if n.lower() in exported.lower()]
    assert verify_chain(acme).ok
    assert offline.verify_lines(exported.splitlines()).ok
    with context.tenant_context(world.acme.organisation.id):
        theirs = [e for e in personal.shown(list(AuditEvent.objects.filter(chain_id=acme, action=AUTH_LOGIN_SUCCEEDED)))
                  if e.actor_label == personal.ERASED]
    assert theirs and all(e.actor_id.startswith("psn_") and e.ip is None for e in theirs)
    assert any("audit log" in item.what and item.count for item in result.erased)
    person.refresh_from_db()
    assert not person.is_active and not person.has_usable_password()
    with context.tenant_context(world.acme.organisation.id):
        assert not Membership.objects.filter(user=person).exists()
    # The outsider's organisation is untouched.
    with context.tenant_context(world.globex.organisation.id):
        assert Membership.objects.count() == 4
        assert Invitation.objects.filter(email=world.globex.invitation.email).exists()


def test_erasure_is_idempotent(world, person):
    first = erasure.erase_person(person.pk)
    again = erasure.erase_person(person.pk)
    assert first.erased and not first.already_erased
    assert again.already_erased and again.erased == []
    assert [k.what for k in again.kept] == [k.what for k in first.kept]


def test_a_sole_owner_hands_over_ownership_first(world):
    with pytest.raises(erasure.SoleOwner) as refused:
        erasure.erase_person(world.acme.users["owner"].pk)
    assert refused.value.slugs == ["acme"]
