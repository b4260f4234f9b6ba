"""The console's security alerts page: who sees it, acknowledging (audited), bad input; and the
minute job that runs the scan."""

from __future__ import annotations

import uuid

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.operations import tasks
from bastion.operations.models import MonitorCursor
from bastion.operations.security_monitoring import rules
from bastion.tenancy import actions, context
from tests.operations.conftest import alerts_of


def _page(org) -> str:
    return f"/o/{org.slug}/security/alerts/"


def _mfa_switched_off(org, monitoring):
    with context.tenant_context(org.organisation.id):
        actions.update_organisation(org.organisation, mfa_required=True)
        actions.update_organisation(org.organisation, mfa_required=False)
    monitoring.scan()
    [alert] = monitoring.new(org, rules.MFA_POLICY_OFF)
    return alert


def test_admins_see_their_alerts_and_acknowledge_them(world, monitoring, client_for):
    acme, globex = world.acme, world.globex
    alert = _mfa_switched_off(acme, monitoring)
    globex_alert = _mfa_switched_off(globex, monitoring)
    admin = client_for(acme.users["admin"])

    page = admin.get(_page(acme))
    assert page.status_code == 200
    text = page.content.decode()
    assert "MFA requirement switched off" in text and f"#{alert.raised_event_seq}" in text
    assert str(globex_alert.id) not in text and str(globex.organisation.id) not in text

    assert admin.post(_page(acme), {"alert": str(alert.id)}).status_code == 302
    [acknowledged] = [a for a in alerts_of(acme.organisation) if a.id == alert.id]
    assert acknowledged.acknowledged_by_label == acme.users["admin"].email
    with context.tenant_context(acme.organisation.id):
        [event] = personal.shown(list(AuditEvent.objects.filter(chain_id=acme.organisation.id,
                                                                action="security.alert.acknowledged")))
    assert event.resource_id == str(alert.id) and event.actor_label == acme.users["admin"].email
    assert "Acknowledged by" in admin.get(_page(acme)).content.decode()
    assert str(alert.id) not in admin.get(_page(acme) + "?open=1").content.decode()


def test_members_below_admin_and_outsiders_get_nothing(world, monitoring, client_for):
    acme, globex = world.acme, world.globex
    alert = _mfa_switched_off(acme, monitoring)
    for role in ("editor", "viewer"):
        assert client_for(acme.users[role]).get(_page(acme)).status_code == 403
        assert client_for(acme.users[role]).post(_page(acme), {"alert": str(alert.id)}).status_code == 403
    outsider = client_for(globex.users["owner"])
    assert outsider.get(_page(acme)).status_code == 404
    # Their own page, with acme's alert id: not found, and nothing acknowledged.
    response = outsider.post(_page(globex), {"alert": str(alert.id)})
    assert response.status_code == 404 and str(alert.id) not in response.content.decode()
    assert all(a.acknowledged_at is None for a in alerts_of(acme.organisation))
    assert str(alert.id) not in outsider.get(_page(globex)).content.decode()


def test_bad_input_is_a_clear_4xx(world, monitoring, client_for):
    owner = client_for(world.acme.users["owner"])
    assert owner.post(_page(world.acme), {"alert": "not-an-id"}).status_code == 400
    assert owner.post(_page(world.acme), {}).status_code == 400
    assert owner.post(_page(world.acme), {"alert": str(uuid.uuid4())}).status_code == 404
    assert owner.put(_page(world.acme)).status_code == 405
    assert owner.get(_page(world.acme) + "?page=999").status_code == 200


def test_the_minute_job_reads_past_the_cursor(world, monitoring, django_capture_on_commit_callbacks):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        actions.update_organisation(acme.organisation, mfa_required=True)
        actions.update_organisation(acme.organisation, mfa_required=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.security_monitoring.call_local() == 1
        assert tasks.security_monitoring.call_local() == 0  # nothing new past the cursor
    with context.tenant_context(acme.organisation.id):
        cursor = MonitorCursor.objects.get(chain_id=acme.organisation.id)
        head = AuditEvent.objects.filter(chain_id=acme.organisation.id).order_by("-seq").first()
    assert cursor.seq >= head.seq - 1  # read up to its own alert event, which it skips next time
