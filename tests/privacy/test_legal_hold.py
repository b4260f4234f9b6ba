"""A legal hold blocks both the retention job and an erasure, and the answer says why."""

from __future__ import annotations

import datetime

from bastion.audit.models import AuditEvent
from bastion.privacy import account_deletion, erasure, holds, organisation_deletion, retention
from bastion.privacy.audit_actions import ERASURE_SUSPENDED, RETENTION_ENFORCED
from bastion.records.models import EmissionRecord, EnergyRecord
from bastion.tenancy import context
from bastion.tenancy.models import Membership, Organisation

# Past every 7-year period of the world's 2025 records.
LATER = datetime.datetime(2034, 1, 1, tzinfo=datetime.UTC)


def _counts(org):
    with context.tenant_context(org.organisation.id):
        return EmissionRecord.objects.count(), EnergyRecord.objects.count()


def test_retention_deletes_expired_records_but_not_under_a_hold(world):
    acme, globex = world.acme, world.globex
    with context.tenant_context(acme.organisation.id):
        hold = holds.place(acme.organisation, project=acme.project, reason="HMRC enquiry 2033-17",
                           placed_by_label="owner@acme.example")

    dry = retention.enforce(now=LATER, dry_run=True)
    assert _counts(acme) == (3, 1) and _counts(globex) == (3, 1)  # a dry run deletes nothing
    by_key = {(o.organisation, o.data_class): o for o in dry.outcomes}
    assert by_key[("globex", "emissions")].deleted == 3
    assert by_key[("acme", "emissions")].deleted == 0
    assert by_key[("acme", "emissions")].kept_by_hold == {hold.describe(): 3}
    assert "HMRC enquiry 2033-17" in hold.describe()

    run = retention.enforce(now=LATER)
    assert _counts(acme) == (3, 1)  # held
    assert _counts(globex) == (0, 0)  # past retention, no hold
    assert run.held == 5  # 3 emissions, 1 energy record, 1 evidence file
    with context.tenant_context(acme.organisation.id):
        event = AuditEvent.objects.filter(chain_id=acme.organisation.id, action=RETENTION_ENFORCED,
                                          resource_type="emissions").get()
        assert event.changes["deleted"] == 0 and hold.describe() in event.changes["kept_by_hold"]
        holds.release(hold)
    retention.enforce(now=LATER)
    assert _counts(acme) == (0, 0)


def test_nothing_is_deleted_before_its_period_ends(world):
    run = retention.enforce(now=datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC))
    assert run.deleted == 0
    assert _counts(world.acme) == (3, 1)


def test_a_hold_suspends_an_erasure_and_says_why(world, person):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        hold = holds.place(acme.organisation, reason="Litigation hold: Acme v. Initech")
    result = erasure.erase_person(person.pk)
    assert result.suspended and result.erased == []
    assert [k.what for k in result.kept] == ["everything about the person in organisation acme"]
    assert "Art. 17(3)(e)" in result.kept[0].why and "Litigation hold: Acme v. Initech" in result.kept[0].why
    person.refresh_from_db()
    assert person.is_active and person.email == "editor@acme.example"
    with context.platform_scope():
        assert AuditEvent.objects.filter(action=ERASURE_SUSPENDED, resource_id=str(person.pk)).exists()

    # The daily job leaves the pending deletion pending while the hold lasts, and erases once it is released.
    account_deletion.request_deletion(person, base_url="http://testserver/")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=31)
    run = account_deletion.erase_due(now=later)
    assert run.suspended and not run.erased
    with context.tenant_context(acme.organisation.id):
        holds.release(hold)
    run = account_deletion.erase_due(now=later)
    assert len(run.erased) == 1
    person.refresh_from_db()
    assert not person.is_active


def test_a_workspace_hold_covers_only_members_granted_there(world, django_user_model):
    acme = world.acme
    outsider_project = None
    with context.tenant_context(acme.organisation.id):
        from bastion.tenancy import actions

        other = actions.create_workspace(acme.organisation, name="Acme US")
        outsider_project = actions.create_project(other, name="US FY2025")
        contractor = django_user_model.objects.create_user(email="contractor@acme.example", password="x" * 20)
        actions.add_membership(acme.organisation, user=contractor, role="editor", project=outsider_project)
        holds.place(acme.organisation, workspace=acme.workspace, reason="Audit of Acme UK")
    assert erasure.erase_person(contractor.pk).suspended is False
    with context.tenant_context(acme.organisation.id):
        assert not Membership.objects.filter(user=contractor).exists()


def test_a_hold_suspends_the_organisations_deletion(world):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        organisation_deletion.schedule(acme.organisation, requested_by_label="owner@acme.example",
                                       base_url="http://testserver/")
        holds.place(acme.organisation, project=acme.project, reason="Regulator request")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=31)
    run = organisation_deletion.delete_due(now=later)
    assert run.deleted == [] and "Regulator request" in run.held["acme"]
    with context.platform_scope():
        assert Organisation.objects.filter(slug="acme").exists()
