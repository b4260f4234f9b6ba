"""Platform staff: made at the command line, members of no organisation, a second factor of the
kind their role needs, their own console, and each role only what it needs (issue 18, part 1)."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from bastion import cli
from bastion.audit.chain import PLATFORM_ID
from bastion.audit.models import AuditEvent
from bastion.support_access.audit_actions import STAFF_CREATED
from bastion.tenancy import actions, context


def _cli(capsys, *argv):
    with pytest.raises(SystemExit) as done:
        cli.main(["staff", "create", *argv])
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_the_cli_makes_staff_and_refuses_bad_input_without_a_traceback(world, capsys):
    code, out, _ = _cli(capsys, "Jo.Security@Bastion.example", "--role", "security")
    assert code == 0 and "jo.security@bastion.example: platform staff, role security" in out
    assert "security key or passkey" in out
    user = get_user_model().objects.get(email="jo.security@bastion.example")
    assert user.staff_role == "security" and not user.has_usable_password()
    with context.platform_scope():
        event = AuditEvent.objects.filter(chain_id=PLATFORM_ID, action=STAFF_CREATED).latest("seq")
    assert event.changes["role"] == "security" and event.actor_type == "operator"

    code, _, err = _cli(capsys, world.acme.users["viewer"].email, "--role", "support")
    assert code == 2 and "is a member of an organisation" in err and "Traceback" not in err
    assert get_user_model().objects.get(email=world.acme.users["viewer"].email).staff_role == ""
    code, _, err = _cli(capsys, "not-an-email", "--role", "support")
    assert code == 2 and "not an email address" in err
    code, _, err = _cli(capsys, "x@bastion.example", "--role", "root")
    assert code == 2 and "invalid choice" in err


def test_staff_can_not_become_members_nor_found_an_organisation(world, django_user_model):
    staff = django_user_model.objects.create_user(email="support@staff.example", staff_role="support")
    with context.tenant_context(world.acme.organisation.id), pytest.raises(ValidationError):
        actions.add_membership(world.acme.organisation, user=staff, role="viewer")
    with pytest.raises(ValidationError):
        actions.create_organisation(name="Staff Co", slug="staff-co", owner=staff)


def test_security_and_operator_need_a_security_key_support_any_second_factor(db, django_user_model, client):
    operator = django_user_model.objects.create_user(email="op@staff.example", staff_role="operator", password="x" * 20)
    TOTP.activate(operator, generate_totp_secret())
    client.force_login(operator)
    confined = client.get("/staff/")
    assert confined.status_code == 302 and confined.url == "/accounts/2fa/"  # an authenticator app is not enough
    assert client.get("/api/v1/orgs").json()["error"]["code"] == "mfa_enrolment_required"

    support = django_user_model.objects.create_user(email="sup@staff.example", staff_role="support", password="x" * 20)
    client.force_login(support)
    assert client.get("/staff/").status_code == 302  # no second factor at all: enrol first
    TOTP.activate(support, generate_totp_secret())
    step_up = client.get("/staff/")  # a session without its second factor used: confirm it first
    assert step_up.status_code == 302 and step_up.url.startswith("/accounts/2fa/reauthenticate/")


def test_each_role_reaches_only_its_own_pages(world, client_for, django_user_model):
    clients = {role: client_for(django_user_model.objects.create_user(email=f"{role}@staff.example", staff_role=role))
               for role in ("support", "security", "operator")}
    assert clients["operator"].get("/status/admin/").status_code == 200
    assert clients["support"].get("/status/admin/").status_code == 404
    assert clients["security"].get("/status/admin/").status_code == 404
    assert clients["support"].get("/api/v1/privacy/requests").status_code == 200
    assert clients["operator"].get("/api/v1/privacy/requests").status_code == 403
    for role, client in clients.items():
        page = client.get("/staff/")
        assert page.status_code == 200 and b"Staff console" in page.content
        assert (b"Ask for access" in page.content) == (role != "operator")
    for user in (world.acme.users["owner"], world.globex.users["admin"]):
        assert client_for(user).get("/staff/").status_code == 404  # organisations' people: no such page
