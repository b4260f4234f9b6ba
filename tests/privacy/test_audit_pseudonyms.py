"""The audit log after an erasure, as its readers see it: the organisation's admins read the person
by name while they are known and "erased person" after; another organisation never reads them."""

from __future__ import annotations

import json

import pytest

from bastion.audit.models import PersonalDetails, Pseudonym
from bastion.privacy import erasure
from bastion.tenancy import context
from tests.privacy.conftest import PERSON_IP


def _labels_and_addresses(client) -> tuple[set[str], set[str]]:
    items = client.get("/api/v1/orgs/acme/audit/events?page_size=200").json()["items"]
    return {i["actor"]["label"] for i in items}, {i["ip"] for i in items}


def _edits_a_record(world, person_client) -> None:
    """An audited change in acme's chain, made by the person from their address."""
    response = person_client.patch(
        f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions/{world.acme.emission.id}",
        data=json.dumps({"notes": "checked"}), content_type="application/json", HTTP_USER_AGENT="Zeb's browser")
    assert response.status_code == 200


def test_admins_read_the_person_until_erasure_then_erased_person(world, person, person_client, client_for):
    _edits_a_record(world, person_client)
    admin = client_for(world.acme.users["admin"])
    labels, addresses = _labels_and_addresses(admin)
    assert person.email in labels and PERSON_IP in addresses

    erasure.erase_person(person.pk)

    labels, addresses = _labels_and_addresses(admin)
    assert person.email not in labels and PERSON_IP not in addresses and "erased person" in labels
    page = admin.get("/api/v1/orgs/acme/audit/events?page_size=200").content.decode()
    assert person.email not in page and person.last_name not in page and PERSON_IP not in page
    console = admin.get("/o/acme/audit/").content.decode()
    assert person.email not in console and "erased person" in console


@pytest.mark.postgres_only
def test_another_organisation_reads_none_of_the_persons_details(world, person, person_client):
    _edits_a_record(world, person_client)
    with context.tenant_context(world.globex.organisation.id):  # the outsider's context: row-level security
        assert not PersonalDetails.objects.filter(chain_id=world.acme.organisation.id).exists()
        assert not Pseudonym.objects.filter(chain_id=world.acme.organisation.id).exists()
    with context.tenant_context(world.acme.organisation.id):
        assert PersonalDetails.objects.filter(chain_id=world.acme.organisation.id).exists()
