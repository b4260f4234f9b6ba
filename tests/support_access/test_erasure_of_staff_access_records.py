"""Erasing a person removes their address from the staff-access records they appear in (as the
approving admin here), keeping what was granted, when and why; nobody else's name changes."""

from bastion.privacy.erasure import erase_person
from bastion.support_access.models import AccessRequest
from bastion.tenancy import context


def test_an_erased_admins_approval_names_nobody(world, staff, client_for):
    support = staff.clients["support"]
    assert support.post("/staff/access-requests/", {"organisation": "acme", "reason": "support",
                                                    "reference": "ZD-7", "mode": "read_only",
                                                    "minutes": 60}).status_code == 302
    with context.platform_scope():
        asked = AccessRequest.all_tenants.get(reference="ZD-7")
    admin = world.acme.users["admin"]
    assert client_for(admin).post(f"/api/v1/orgs/acme/access-requests/{asked.id}/approve").status_code == 200

    result = erase_person(admin.pk)
    assert any("staff access requests" in item.what and item.count == 1 for item in result.erased)
    with context.platform_scope():
        asked.refresh_from_db()
        assert admin.email not in repr(AccessRequest.all_tenants.values_list())
        pending = AccessRequest.all_tenants.get(id=world.globex.access_request.id)
    assert asked.state == "approved" and asked.reference == "ZD-7"
    assert [a["label"] for a in asked.approvals] == ["erased person"]
    assert asked.requested_by_label == "support@staff.example"  # the staff member is not the one erased
    assert pending.requested_by_label == "support@bastion-staff.example"
