"""PostgreSQL keeps alerts apart: an organisation's alerts are its own, the platform's alerts and the
cursors are platform rows. Raw SQL as the app role."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from bastion.operations.security_monitoring import rules
from bastion.tenancy import actions, context

pytestmark = pytest.mark.postgres_only


def _count(sql: str, org_id=None, scope: str = "") -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('bastion.org_id', %s, true), set_config('bastion.scope', %s, true)",
                       [str(org_id or ""), scope])
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_alerts_are_confined_by_row_level_security(world, monitoring, settings):
    acme, globex = world.acme, world.globex
    with context.tenant_context(acme.organisation.id):
        actions.update_organisation(acme.organisation, mfa_required=True)
        actions.update_organisation(acme.organisation, mfa_required=False)
    monitoring.scan()
    [alert] = monitoring.new(acme, rules.MFA_POLICY_OFF)

    mine = f"SELECT count(*) FROM operations_securityalert WHERE id = '{alert.id}'"
    assert _count(mine, acme.organisation.id) == 1
    assert _count(mine, globex.organisation.id) == 0
    assert _count(mine) == 0
    assert _count(mine, scope="platform") == 0  # platform scope lists organisations, not their alerts
    assert _count("SELECT count(*) FROM operations_platformsecurityalert", acme.organisation.id) == 0
    assert _count("SELECT count(*) FROM operations_signinfailure", acme.organisation.id) == 0
    assert _count("SELECT count(*) FROM operations_monitorcursor", globex.organisation.id) == 1  # its own only
    assert _count("SELECT count(*) FROM operations_monitorcursor", scope="platform") >= 2
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('bastion.org_id', %s, true), set_config('bastion.scope', '', true)",
                           [str(globex.organisation.id)])
            cursor.execute("UPDATE operations_monitorcursor SET seq = 0 WHERE chain_id = %s", [str(acme.organisation.id)])
            assert cursor.rowcount == 0
            cursor.execute(
                "INSERT INTO operations_securityalert (id, organisation_id, rule, severity, subject, summary, dedup_key,"
                " events, event_count, first_event_at, last_event_at, raised_at, acknowledged_by_label)"
                " VALUES (gen_random_uuid(), %s, 'x', 'high', 'x', 'x', 'x', '[]', 0, now(), now(), now(), '')",
                [str(acme.organisation.id)])
