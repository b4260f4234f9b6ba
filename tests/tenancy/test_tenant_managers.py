"""The ORM confines queries on every backend: outside a context nothing, inside only one organisation."""

from __future__ import annotations

import pytest
from django.apps import apps

from bastion.records.models import EmissionRecord
from bastion.tenancy import context
from bastion.tenancy.models import TenantModel

TENANT_MODELS = [m for m in apps.get_models() if issubclass(m, TenantModel)]


def test_outside_a_context_managers_return_nothing(world):
    for model in TENANT_MODELS:
        assert model.objects.count() == 0, model.__name__


def test_inside_a_context_managers_return_only_that_organisation(world):
    a, b = world.acme.organisation, world.globex.organisation
    with context.tenant_context(a.id):
        for model in TENANT_MODELS:
            assert not model.objects.filter(organisation_id=b.id).exists(), model.__name__
        assert {r.id for r in EmissionRecord.objects.all()} == {r.id for r in world.acme.emissions}
        assert EmissionRecord.objects.filter(id=world.globex.emission.id).first() is None


def test_saving_a_row_of_another_organisation_is_refused(world):
    with context.tenant_context(world.acme.organisation.id):
        planted = EmissionRecord(organisation=world.globex.organisation, project=world.globex.project)
        with pytest.raises(PermissionError):
            planted.save()
