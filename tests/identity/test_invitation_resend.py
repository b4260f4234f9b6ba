"""Resending an invitation (issue 21, part 4): a new link (the old one stops working) and a new
7-day expiry, emailed and audited; only members managers of the inviting organisation can."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bastion.audit.models import AuditEvent
from bastion.identity.models import Invitation
from bastion.tenancy import context
from tests.conftest import PASSWORD
from tests.sign_in import invitation_link

pytestmark = pytest.mark.django_db


def _resend_url(ns, invitation_id=None):
    return f"/api/v1/orgs/{ns.organisation.slug}/invitations/{invitation_id or ns.invitation.id}/resend"


def test_resending_sends_a_new_link_and_the_old_one_stops_working(world, client_for, django_user_model, settings):
    admin = client_for(world.acme.users["admin"])
    resent = admin.post(_resend_url(world.acme))
    assert resent.status_code == 202 and resent.json()["email"] == world.acme.invitation.email
    [message] = [m for m in mail.outbox if m.to == [world.acme.invitation.email]]
    new_link = invitation_link(message)
    assert world.acme.invitation_token not in new_link
    with context.tenant_context(world.acme.organisation.id):
        invitation = Invitation.objects.get(id=world.acme.invitation.id)
        expected = timezone.now() + datetime.timedelta(days=settings.BASTION_INVITATION_DAYS)
        assert abs((invitation.expires_at - expected).total_seconds()) < 60
        assert AuditEvent.objects.filter(chain_id=world.acme.organisation.id, action="invitation.renewed").count() == 1

    invitee = client_for(
        django_user_model.objects.create_user(email=world.acme.invitation.email, password=PASSWORD, email_verified=True)
    )
    assert invitee.get(f"/invitations/{world.acme.invitation_token}/").status_code == 404  # the old link
    assert invitee.post(new_link).status_code == 302  # the new one: joined
    assert admin.post(_resend_url(world.acme)).status_code == 422  # accepted: nothing left to resend


def test_only_a_members_manager_of_the_organisation_can_resend(world, client_for):
    assert client_for(world.acme.users["viewer"]).post(_resend_url(world.acme)).status_code == 403
    assert client_for(world.globex.users["owner"]).post(_resend_url(world.acme)).status_code == 404
    admin = client_for(world.acme.users["admin"])
    assert admin.post(_resend_url(world.acme, world.globex.invitation.id)).status_code == 404
    assert not mail.outbox


def test_console_resends_an_invitation(world, client_for):
    admin = client_for(world.acme.users["admin"])
    page = admin.get(reverse("console:members", kwargs={"org": "acme"}))
    url = reverse("console:invitation_resend", kwargs={"org": "acme", "invitation_id": world.acme.invitation.id})
    assert url.encode() in page.content
    assert admin.post(url).status_code == 302
    assert [m.to for m in mail.outbox] == [[world.acme.invitation.email]]
    other = reverse("console:invitation_resend", kwargs={"org": "acme", "invitation_id": world.globex.invitation.id})
    assert admin.post(other).status_code == 404
