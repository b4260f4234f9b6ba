"""Sign-in attempts are audit events that the organisation's admins can see."""

from __future__ import annotations

from django.test import Client

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.tenancy import context
from tests.conftest import PASSWORD
from tests.sign_in import sign_in


def _actions(organisation, action):
    """As shown: the chain holds pseudonyms, the addresses are kept beside it (format bastion-audit/2)."""
    with context.tenant_context(organisation.id):
        return personal.shown(list(AuditEvent.objects.filter(chain_id=organisation.id, action=action)))


def _sign_in(email, password):
    return sign_in(Client(), email, password, REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Firefox/140")


def test_success_and_failure_are_recorded_with_ip_agent_and_username(world):
    _sign_in("editor@acme.example", "wrong password entirely")
    _sign_in("editor@acme.example", PASSWORD)
    [failed] = _actions(world.acme.organisation, "auth.login.failed")
    [succeeded] = _actions(world.acme.organisation, "auth.login.succeeded")
    assert failed.changes == {"username": "editor@acme.example"}
    assert failed.event.changes["username"] == failed.event.actor_id == succeeded.event.actor_id  # one pseudonym
    assert failed.event.actor_id.startswith("psn_") and failed.event.ip is None
    assert (failed.ip, failed.user_agent, failed.actor_type) == ("192.0.2.44", "Firefox/140", "anonymous")
    assert (succeeded.actor_type, succeeded.actor_label) == ("user", "editor@acme.example")
    assert not _actions(world.globex.organisation, "auth.login.failed")


def test_an_unknown_account_goes_to_the_platform_chain(world):
    from django.db import transaction

    from bastion.db.platform import PLATFORM_ID
    from bastion.db.rls import set_setting

    _sign_in("nobody@nowhere.example", "whatever it is")
    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        [event] = personal.shown(list(AuditEvent.objects.filter(chain_id=PLATFORM_ID, action="auth.login.failed")))
    assert event.changes == {"username": "nobody@nowhere.example"}
    assert "nowhere" not in str(event.event.changes)  # the platform chain's own pseudonym of the address


def test_admins_see_sign_ins_in_the_api(world, client_for):
    _sign_in("viewer@acme.example", "not it at all")
    items = client_for(world.acme.users["admin"]).get("/api/v1/orgs/acme/audit/events?action=auth.").json()["items"]
    assert any(i["action"] == "auth.login.failed" and i["changes"]["username"] == "viewer@acme.example" for i in items)
