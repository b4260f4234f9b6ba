"""Access rules: an admin-grade role granted, and the MFA requirement or single sign-on switched off."""

from __future__ import annotations

from bastion.identity.sso import configuration as sso_configuration
from bastion.operations.security_monitoring import rules
from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership
from tests.operations.conftest import admins_of, everyone_of, recipients


def test_granting_an_admin_grade_role(world, monitoring, django_user_model):
    acme, globex = world.acme, world.globex
    newcomer = django_user_model.objects.create_user(email="newcomer@acme.example", password="x" * 20)
    with context.tenant_context(acme.organisation.id):
        actions.add_membership(acme.organisation, user=newcomer, role="editor")  # below admin: nothing
    monitoring.scan()
    assert monitoring.new(acme, rules.PRIVILEGE_GRANT) == []

    with context.tenant_context(acme.organisation.id):
        grant = Membership.objects.get(user=newcomer)
        actions.change_membership_role(grant, role="admin")
    monitoring.scan()
    [alert] = monitoring.new(acme, rules.PRIVILEGE_GRANT)
    assert alert.subject == "member newcomer@acme.example" and "admin" in alert.summary
    # the organisation's admins, the new one included (they are one now)
    assert recipients() == admins_of(acme) | {"newcomer@acme.example"} and not recipients() & everyone_of(globex)
    assert monitoring.new(globex, None) == []
    monitoring.replay()
    assert len(monitoring.new(acme, rules.PRIVILEGE_GRANT)) == 1


def test_a_custom_role_gaining_admin_grade_permissions(world, monitoring):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        actions.add_membership(acme.organisation, user=acme.users["viewer"], role=f"custom:{acme.custom_role.id}",
                               workspace=acme.workspace)
        actions.save_role(acme.organisation, role=acme.custom_role, name="Auditor",
                          permissions=["records.view", "evidence.view", "members.manage"])
    monitoring.scan()
    [alert] = monitoring.new(acme, rules.PRIVILEGE_GRANT)
    assert "members.manage" in alert.summary


def test_switching_the_mfa_requirement_off(world, monitoring):
    acme, globex = world.acme, world.globex
    with context.tenant_context(acme.organisation.id):
        actions.update_organisation(acme.organisation, mfa_required=True)  # on: nothing to alert
    monitoring.scan()
    assert monitoring.new(acme, rules.MFA_POLICY_OFF) == []
    with context.tenant_context(acme.organisation.id):
        actions.update_organisation(acme.organisation, mfa_required=False)
    monitoring.scan()
    [alert] = monitoring.new(acme, rules.MFA_POLICY_OFF)
    assert recipients() == admins_of(acme)
    assert monitoring.new(globex, None) == []
    monitoring.replay()
    assert len(monitoring.new(acme, rules.MFA_POLICY_OFF)) == 1
    assert alert.events and alert.raised_event_seq


OIDC = {"protocol": "oidc", "issuer": "https://idp.acme.example", "client_id": "bastion",
        "client_secret": "s3cret-value-for-tests"}


def test_switching_single_sign_on_off(world, monitoring):
    acme, globex = world.acme, world.globex
    with context.tenant_context(acme.organisation.id):
        sso_configuration.configure(acme.organisation, enabled=False, **OIDC)  # set up switched off: not an alert
        sso_configuration.configure(acme.organisation, enabled=True)
    monitoring.scan()
    assert monitoring.new(acme, rules.SSO_OFF) == []
    with context.tenant_context(acme.organisation.id):
        sso_configuration.configure(acme.organisation, enabled=False)
    monitoring.scan()
    [alert] = monitoring.new(acme, rules.SSO_OFF)
    assert "disabled" in alert.summary
    assert recipients() == admins_of(acme)
    assert monitoring.new(globex, None) == []
    monitoring.replay()
    assert len(monitoring.new(acme, rules.SSO_OFF)) == 1
