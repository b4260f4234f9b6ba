"""Appending: every change writes its event in its own transaction, with who, where and what."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from bastion.audit import chain as audit
from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.audit.registry import UnknownAction
from bastion.audit.verification import verify_chain
from bastion.tenancy import actions, context
from bastion.tenancy.models import Workspace


def _events(organisation, **filters):
    with context.tenant_context(organisation.id):
        return list(AuditEvent.objects.filter(chain_id=organisation.id, **filters).order_by("seq"))


def test_an_api_change_is_recorded_with_actor_ip_agent_and_request(world, client_for):
    client = client_for(world.acme.users["editor"])
    response = client.patch(
        f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions/{world.acme.emission.id}",
        data=json.dumps({"quantity": "77", "notes": "re-read"}), content_type="application/json",
        REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="pytest-agent/1",
    )
    assert response.status_code == 200
    [stored] = _events(world.acme.organisation, action="emission_record.updated")
    # In the chain: a pseudonym, no address, no browser; shown: the person, from the details kept beside it.
    assert stored.actor_id.startswith("psn_") and (stored.actor_label, stored.ip, stored.user_agent) == ("", None, "")
    with context.tenant_context(world.acme.organisation.id):
        event = personal.shown_one(stored)
    assert (event.actor_type, event.actor_label) == ("user", "editor@acme.example")
    assert (event.ip, event.user_agent) == ("198.51.100.7", "pytest-agent/1")
    assert event.request_id == response["X-Request-ID"]
    assert event.resource_id == str(world.acme.emission.id)
    assert event.changes["quantity"] == ["1200.500000", "77.000000"]
    assert event.changes["notes"] == ["", "re-read"]
    assert not _events(world.globex.organisation, action="emission_record.updated")


def test_every_change_of_the_fixture_is_in_the_chain_and_the_chain_verifies(world):
    actions_seen = [e.action for e in _events(world.acme.organisation)]
    assert actions_seen[:2] == ["organisation.created", "member.added"]
    assert {"workspace.created", "project.created", "role.created", "evidence.uploaded"} <= set(actions_seen)
    events = _events(world.acme.organisation)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert verify_chain(str(world.acme.organisation.id)).ok
    assert verify_chain(str(world.globex.organisation.id)).ok


def test_sensitive_supplier_fields_are_recorded_as_changed_never_in_clear(world, client_for):
    client = client_for(world.acme.users["editor"])
    client.patch(f"/api/v1/orgs/acme/projects/{world.acme.project.id}/suppliers/{world.acme.supplier.id}",
                 data=json.dumps({"contact_email": "secret.person@example.net", "contract_value": "123456.78"}),
                 content_type="application/json")
    [event] = _events(world.acme.organisation, action="supplier.updated")
    assert event.changes == {"contact_email": ["[redacted]", "[redacted]"], "contract_value": ["[redacted]", "[redacted]"]}
    assert "secret.person" not in json.dumps(event.changes)


def test_a_change_whose_event_fails_is_rolled_back(world, monkeypatch):
    def broken(*args, **kwargs):
        raise IntegrityError("audit append failed")

    monkeypatch.setattr(audit.linking, "append", broken)  # the statement that inserts the event
    with context.tenant_context(world.acme.organisation.id):
        before = Workspace.objects.count()
        with pytest.raises(IntegrityError):
            actions.create_workspace(world.acme.organisation, name="Never")
        assert Workspace.objects.count() == before
        assert not Workspace.objects.filter(name="Never").exists()


def test_a_failed_change_leaves_no_event(world):
    with context.tenant_context(world.acme.organisation.id):
        head = AuditEvent.objects.filter(chain_id=world.acme.organisation.id).count()
        with pytest.raises(RuntimeError), transaction.atomic():
            actions.create_workspace(world.acme.organisation, name="Doomed")
            raise RuntimeError("the rest of the request failed")
        assert AuditEvent.objects.filter(chain_id=world.acme.organisation.id).count() == head


def test_events_are_only_appended_inside_a_transaction(db):
    """A thread has its own connection, in autocommit: there ``record`` refuses to write."""
    import threading

    outcome = []

    def outside():
        try:
            audit.record("audit.exported", resource_type="test")
        except audit.NotInTransaction as exc:
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=outside)
    thread.start()
    thread.join()
    assert len(outcome) == 1


def test_unknown_actions_are_refused(db):
    with pytest.raises(UnknownAction), transaction.atomic():
        audit.record("workspace.renamed_by_typo")


def test_platform_events_have_their_own_chain(db):
    from bastion.db.platform import PLATFORM_ID
    from bastion.db.rls import set_setting

    with transaction.atomic():
        first = audit.record("audit.exported", resource_type="test")
        second = audit.record("audit.exported", resource_type="test")
    assert str(first.chain_id) == PLATFORM_ID and second.seq == first.seq + 1
    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        assert verify_chain(PLATFORM_ID).ok


def test_the_event_table_is_append_only(world):
    with context.tenant_context(world.acme.organisation.id):
        for sql in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        assert AuditEvent.objects.filter(chain_id=world.acme.organisation.id).exists()
