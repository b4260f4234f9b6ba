"""The services behind ``bastion keys rotate`` and ``bastion audit verify`` (and their jobs) return
what they did: tested here on their result objects, not on printed text."""

from __future__ import annotations

import pytest

from bastion.audit.models import AuditEvent
from bastion.tenancy import audit_verification, context, key_rotation
from bastion.tenancy.organisations import UnknownOrganisation
from tests.audit.db_tampering import committed, forget, make_chain, tamper


def test_rotation_reports_each_organisation_it_rotated(world):
    seen = []
    run = key_rotation.rotate("acme", batch_size=5, progress=lambda slug, done, total: seen.append((slug, done, total)))
    [done] = run.rotated
    assert (done.slug, done.organisation_id) == ("acme", str(world.acme.organisation.id))
    assert done.data_key_version == 2 and done.rows_reencrypted > 0 and done.versions_retired == [1]
    assert seen and {slug for slug, _, _ in seen} == {"acme"} and seen[-1][1] == done.rows_reencrypted
    assert all(done_rows <= total for _, done_rows, total in seen)
    with context.tenant_context(world.globex.organisation.id):  # the outsider is untouched
        assert not AuditEvent.objects.filter(chain_id=world.globex.organisation.id, action="keys.rotated").exists()
    assert key_rotation.rotate(only_older_than_days=3650).rotated == []  # nothing that old
    resumed = key_rotation.resume("acme")
    assert [(r.slug, r.rows_reencrypted, r.data_key_version) for r in resumed.rotated] == [("acme", 0, None)]
    with pytest.raises(UnknownOrganisation):
        key_rotation.rotate("no-such-org")


def test_verification_reports_every_chain_and_names_the_broken_one(world):
    run = audit_verification.verify("acme", record=False)
    [result] = run.results
    assert run.ok and run.broken == [] and result.report.events > 0
    assert result.name == f"organisation acme ({world.acme.organisation.id})"
    with pytest.raises(UnknownOrganisation):
        audit_verification.verify("no-such-org")


def test_a_broken_chain_is_in_the_result(db):
    chain_id = make_chain(6)
    try:
        tamper("UPDATE audit_auditevent SET action = 'member.removed' WHERE chain_id = %s AND seq = 4", (chain_id,))
        run = committed(audit_verification.verify, None)
        assert not run.ok
        # (On PostgreSQL other tests' committed chains are verified too: only this one is asserted on.)
        broken = {result.chain_id: result for result in run.broken}
        assert broken[chain_id].report.first_bad_seq == 4
        assert broken[chain_id] in run.results
    finally:
        forget(chain_id)
