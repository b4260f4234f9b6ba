"""The demo's seeded records go through the same audited action as a person's edit: one event each."""

from __future__ import annotations

from django.db import transaction

from bastion import demo
from bastion.audit.models import AuditEvent
from bastion.audit.verification import verify_chain
from bastion.db.rls import set_setting
from bastion.records.models import EmissionRecord, EnergyRecord, Supplier
from bastion.tenancy import context
from bastion.tenancy.models import Organisation


def test_every_demo_record_has_its_created_event(db):
    demo.create("demo password 1234")
    with context.platform_scope():
        organisations = list(Organisation.objects.all())
    assert {o.slug for o in organisations} == set(demo.ORGANISATIONS)
    for organisation in organisations:
        with context.tenant_context(organisation.id):
            set_setting("bastion.org_id", str(organisation.id))
            for model, action in ((Supplier, "supplier.created"), (EmissionRecord, "emission_record.created"),
                                  (EnergyRecord, "energy_record.created")):
                ids = {str(pk) for pk in model.objects.filter(organisation_id=organisation.id).values_list("id", flat=True)}
                events = set(AuditEvent.objects.filter(chain_id=organisation.id, action=action)
                             .values_list("resource_id", flat=True))
                assert ids and events == ids, action
            supplier_event = AuditEvent.objects.filter(chain_id=organisation.id, action="supplier.created").first()
            assert supplier_event.changes["contract_value"] == ["[redacted]", "[redacted]"]
        with transaction.atomic():
            assert verify_chain(str(organisation.id)).ok
