"""Fixtures of the operations tests.

Status page: jobs run at once (Huey's
immediate mode) and platform staff with a second factor. Security monitoring: run the job's scan (its
emails delivered, as after a commit), replay the stream from the start, read an organisation's alerts
as that organisation."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest
from django.core import mail
from django.test import RequestFactory

from bastion.audit import context as audit_context
from bastion.operations.models import MonitorCursor, PlatformSecurityAlert, SecurityAlert
from bastion.operations.security_monitoring import monitor
from bastion.tenancy import context


@pytest.fixture
def jobs_now():
    from huey.contrib.djhuey import HUEY

    saved, HUEY.immediate = HUEY.immediate, True
    yield
    HUEY.immediate = saved


@pytest.fixture
def staff(db, django_user_model):
    """A platform operator (staff role ``operator``) with a security key, as the console requires."""
    from tests.sign_in import register_security_key

    user = django_user_model.objects.create_user(email="operator@bastion-platform.example", password="x" * 20,
                                                 email_verified=True, staff_role="operator")
    register_security_key(user)
    return user


@pytest.fixture(autouse=True)
def _fresh_summary(request, settings):
    """No cached summary between tests; a generous "slow" threshold: this machine is shared, and a
    first request in a process (loading the URL conf) can take seconds (slowness has its own test)."""
    from bastion.operations import summary

    settings.BASTION_STATUS_SLOW_SECONDS = 60
    uses_db = request.node.get_closest_marker("django_db") is not None
    if uses_db:
        summary.forget()
    yield
    if uses_db:
        summary.forget()



@contextlib.contextmanager
def from_client(ip: str, user_agent: str = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"):
    """Events recorded in this block carry ``ip`` and ``user_agent``, as in a request from that client."""
    request = RequestFactory().get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent)
    token = audit_context.bind_request(request)
    try:
        yield request
    finally:
        audit_context.unbind_request(token)


def alerts_of(organisation, rule: str | None = None) -> list[SecurityAlert]:
    with context.tenant_context(organisation.id):
        found = SecurityAlert.objects.filter(organisation_id=organisation.id)
        return list(found.filter(rule=rule) if rule else found)


def platform_alerts(rule: str | None = None) -> list[PlatformSecurityAlert]:
    with context.platform_scope():
        found = PlatformSecurityAlert.objects.all()
        return list(found.filter(rule=rule) if rule else found)


@pytest.fixture
def monitoring(world, django_capture_on_commit_callbacks):
    """The world's own history scanned once (its founding grants are alerts already); afterwards
    ``monitoring.scan()`` reads what a test added, ``monitoring.replay()`` reads everything again,
    and ``monitoring.new(org, rule)`` lists the alerts raised since the start of the test."""
    def scan():
        with django_capture_on_commit_callbacks(execute=True):
            return monitor.scan()

    def replay():
        with context.platform_scope():
            MonitorCursor.objects.all().update(seq=0)
        return scan()

    scan()
    before = {org.organisation.id: {a.id for a in alerts_of(org.organisation)} for org in (world.acme, world.globex)}
    platform_before = {a.id for a in platform_alerts()}
    mail.outbox.clear()

    def new(org, rule):
        return [a for a in alerts_of(org.organisation, rule) if a.id not in before[org.organisation.id]]

    def new_platform(rule):
        return [a for a in platform_alerts(rule) if a.id not in platform_before]

    return SimpleNamespace(scan=scan, replay=replay, new=new, new_platform=new_platform)


def recipients() -> set[str]:
    return {address for message in mail.outbox for address in message.to}


def admins_of(org) -> set[str]:
    return {org.users["owner"].email, org.users["admin"].email}


def everyone_of(org) -> set[str]:
    return {user.email for user in org.users.values()}
