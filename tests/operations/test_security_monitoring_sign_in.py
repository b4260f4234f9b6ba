"""Sign-in rules: brute force, password spraying (an organisation's accounts, and accounts that do
not exist: the platform's), and an admin signing in from a new network on a new device."""

from __future__ import annotations

from django.test import Client

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.db.platform import PLATFORM_ID
from bastion.identity import signin_events
from bastion.operations.security_monitoring import rules
from bastion.tenancy import context
from tests.operations.conftest import admins_of, everyone_of, from_client, recipients
from tests.sign_in import sign_in

WRONG = "not the password at all 1"


def _fail(email: str, ip: str, times: int = 1) -> None:
    client = Client()
    for _ in range(times):
        response = sign_in(client, email, WRONG, REMOTE_ADDR=ip)
        assert response.status_code in (200, 429, 302), response.status_code


def test_brute_force_on_one_account_raises_one_alert(world, monitoring, settings):
    settings.BASTION_SECURITY_BRUTE_FORCE_FAILURES = 4
    acme, globex = world.acme, world.globex
    _fail(acme.users["editor"].email, "203.0.113.7", times=7)  # locked after 5: the refusals count too
    monitoring.scan()

    [alert] = monitoring.new(acme, rules.BRUTE_FORCE)
    assert alert.subject == f"account {acme.users['editor'].email}"
    assert alert.event_count == 7 and "203.0.0.0/16" in alert.summary
    with context.tenant_context(acme.organisation.id):
        linked = [AuditEvent.objects.get(chain_id=chain, seq=seq) for chain, seq in alert.events]
        raised = AuditEvent.objects.get(chain_id=acme.organisation.id, seq=alert.raised_event_seq)
    assert {event.action for event in linked} == {"auth.login.failed", "auth.login.refused"}
    assert {str(event.chain_id) for event in linked} == {str(acme.organisation.id)}
    assert raised.action == "security.alert.raised" and raised.resource_id == str(alert.id)
    assert raised.changes["events"] == alert.events[:4]  # the events that crossed the threshold; later ones join

    assert recipients() == admins_of(acme)  # the owner and the admin, each their own message
    assert all(len(message.to) == 1 for message in monitoring_mail())
    assert monitoring.new(globex, None) == []

    monitoring.replay()  # the same events again: the same incident, no second alert, no second email
    assert len(monitoring.new(acme, rules.BRUTE_FORCE)) == 1
    assert len(monitoring_mail()) == 2


def monitoring_mail():
    from django.core import mail

    return mail.outbox


def test_failures_below_the_threshold_raise_nothing(world, monitoring, settings):
    settings.BASTION_SECURITY_BRUTE_FORCE_FAILURES = 4
    _fail(world.globex.users["viewer"].email, "203.0.113.7", times=3)
    monitoring.scan()
    assert monitoring.new(world.globex, rules.BRUTE_FORCE) == []
    assert monitoring.new(world.acme, None) == [] and monitoring_mail() == []


def test_password_spraying_across_an_organisations_accounts(world, monitoring, settings):
    settings.BASTION_SECURITY_SPRAY_ACCOUNTS = 4
    acme, globex = world.acme, world.globex
    for number, user in enumerate(acme.users.values()):  # one try each, from one /16
        _fail(user.email, f"198.51.{number}.20")
    monitoring.scan()

    [alert] = monitoring.new(acme, rules.PASSWORD_SPRAYING)
    assert alert.subject == "network 198.51.0.0/16" and alert.event_count == 4
    assert monitoring.new(acme, rules.BRUTE_FORCE) == []
    [platform] = monitoring.new_platform(rules.PASSWORD_SPRAYING)  # the platform hears of it too
    assert platform.subject == alert.subject
    assert recipients() == admins_of(acme)  # no BASTION_ALERT_EMAILS, no staff here
    assert not recipients() & everyone_of(globex)
    assert monitoring.new(globex, None) == []
    monitoring.replay()
    assert len(monitoring.new(acme, rules.PASSWORD_SPRAYING)) == 1


def test_spraying_below_the_threshold_or_from_many_networks_raises_nothing(world, monitoring, settings):
    settings.BASTION_SECURITY_SPRAY_ACCOUNTS = 4
    users = list(world.acme.users.values())
    for user in users[:3]:
        _fail(user.email, "198.51.100.20")  # three accounts only
    _fail(users[3].email, "192.0.2.20")  # the fourth from elsewhere
    monitoring.scan()
    assert monitoring.new(world.acme, rules.PASSWORD_SPRAYING) == []


def test_spraying_accounts_that_do_not_exist_alerts_the_platform(world, monitoring, settings, django_user_model):
    settings.BASTION_SECURITY_SPRAY_ACCOUNTS = 5
    settings.BASTION_ALERT_EMAILS = ["soc@platform.example"]
    for role in ("support", "security", "operator"):  # of platform staff, only the security role hears of alerts
        django_user_model.objects.create_user(email=f"{role}@staff.example", staff_role=role)
    for number in range(6):
        _fail(f"guess{number}@nowhere.example", "2001:db8:aa::7")
    monitoring.scan()

    [alert] = monitoring.new_platform(rules.PASSWORD_SPRAYING)
    assert alert.subject == "network 2001:db8::/32"
    assert {chain for chain, _ in alert.events} == {PLATFORM_ID}
    with context.platform_scope():
        raised = AuditEvent.objects.get(chain_id=PLATFORM_ID, seq=alert.raised_event_seq)
    assert raised.action == "security.alert.raised"
    assert recipients() == {"soc@platform.example", "security@staff.example"}  # not any organisation's admins
    assert monitoring.new(world.acme, None) == [] and monitoring.new(world.globex, None) == []
    monitoring.replay()
    assert len(monitoring.new_platform(rules.PASSWORD_SPRAYING)) == 1


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/141.0 Safari/537.36"
SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.0 Safari/605.1.15"


def _signs_in(user, ip: str, user_agent: str) -> None:
    with from_client(ip, user_agent) as request:
        signin_events.on_login(None, request, user)


def test_admin_from_a_new_network_on_a_new_device(world, monitoring):
    acme, globex = world.acme, world.globex
    owner = acme.users["owner"]
    _signs_in(owner, "198.51.100.7", FIREFOX)  # the baseline
    _signs_in(owner, "198.51.7.9", CHROME)  # a new device on a known network: ordinary
    _signs_in(owner, "203.0.113.5", FIREFOX)  # a new network with a known device: ordinary
    monitoring.scan()
    assert monitoring.new(acme, rules.ADMIN_NEW_NETWORK_AND_DEVICE) == []

    _signs_in(owner, "192.0.2.44", SAFARI)  # both new
    monitoring.scan()
    [alert] = monitoring.new(acme, rules.ADMIN_NEW_NETWORK_AND_DEVICE)
    assert alert.subject == f"user {owner.email}" and "192.0.0.0/16" in alert.summary
    [(chain, seq)] = alert.events
    with context.tenant_context(acme.organisation.id):
        # The address is kept beside the chain (format 2), not in the hashed event.
        stored = AuditEvent.objects.get(chain_id=chain, seq=seq)
        assert stored.ip is None and personal.shown_one(stored).ip == "192.0.2.44"
    assert recipients() == admins_of(acme)
    assert monitoring.new(globex, None) == []
    monitoring.replay()
    assert len(monitoring.new(acme, rules.ADMIN_NEW_NETWORK_AND_DEVICE)) == 1


def test_a_member_below_admin_from_a_new_network_and_device_is_not_an_alert(world, monitoring):
    editor = world.acme.users["editor"]
    _signs_in(editor, "198.51.100.7", FIREFOX)
    _signs_in(editor, "192.0.2.44", SAFARI)
    monitoring.scan()
    assert monitoring.new(world.acme, rules.ADMIN_NEW_NETWORK_AND_DEVICE) == []


def test_spraying_across_organisations_alerts_the_platform_only(world, monitoring, settings):
    """Two accounts in each organisation and two that do not exist: too few for either organisation's
    rule, six for the platform's."""
    settings.BASTION_SECURITY_SPRAY_ACCOUNTS = 6
    settings.BASTION_ALERT_EMAILS = ["soc@platform.example"]
    acme, globex = world.acme, world.globex
    targets = [acme.users["editor"].email, acme.users["viewer"].email, globex.users["editor"].email,
               globex.users["viewer"].email, "ghost1@nowhere.example", "ghost2@nowhere.example"]
    for number, email in enumerate(targets):
        _fail(email, f"198.18.{number}.1")
    monitoring.scan()

    [alert] = monitoring.new_platform(rules.PASSWORD_SPRAYING)
    assert alert.subject == "network 198.18.0.0/16" and alert.event_count == 6
    assert {chain for chain, _ in alert.events} == {str(acme.organisation.id), str(globex.organisation.id),
                                                   PLATFORM_ID}
    assert "6 accounts in 3 audit chain(s)" in alert.summary
    assert monitoring.new(acme, None) == [] and monitoring.new(globex, None) == []
    assert recipients() == {"soc@platform.example"}
    monitoring.replay()
    assert len(monitoring.new_platform(rules.PASSWORD_SPRAYING)) == 1
