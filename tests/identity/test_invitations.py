"""Invitations (issue 12, findings 5 and 6): adding a member never makes an account for an unproven
address nor adds anyone without their consent; the answer is the same whether or not the address
has an account; an account made for an address nobody proved is claimed by whoever proves it,
without the grants they never accepted. Acme invites; globex is the outsider throughout."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.identity.models import Invitation
from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership
from bastion.tenancy.permissions import BUILTIN_ROLES
from tests.conftest import PASSWORD
from tests.sign_in import accept_invitation, invitation_link, sign_in, signed_in_with_second_factor

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a brand new passphrase 2026"
MEMBERS = "/api/v1/orgs/acme/members"


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def _members_of(ns, user) -> list[Membership]:
    with context.tenant_context(ns.organisation.id):
        return list(Membership.objects.filter(user=user))


def _events(ns, action) -> list[personal.Shown]:
    with context.tenant_context(ns.organisation.id):
        return personal.shown(list(AuditEvent.objects.filter(chain_id=ns.organisation.id, action=action)))


def _confirm_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)


def _sign_up_and_confirm(client, email):
    signed_up = client.post(reverse("account_signup"), {"email": email, "password1": NEW_PASSWORD,
                                                        "password2": NEW_PASSWORD})
    assert signed_up.status_code == 302
    assert client.post(_confirm_link(mail.outbox[-1])).status_code == 302
    assert sign_in(client, email, NEW_PASSWORD).status_code == 302


# Finding 5: account squatting ----------------------------------------------------------------


def test_adding_an_unknown_address_makes_no_account_and_its_owner_signs_up_and_accepts(world, client_for):
    admin = client_for(world.acme.users["admin"])
    invited = _post(admin, MEMBERS, {"email": "Victim@Startup.example", "role": "editor"})
    assert invited.status_code == 202 and invited.json() == {"status": "invited", "email": "victim@startup.example"}
    assert not get_user_model().objects.filter(email__iexact="victim@startup.example").exists()  # nothing squatted
    [invitation_mail] = [m for m in mail.outbox if m.to == ["victim@startup.example"]]
    assert "Acme Corp" in invitation_mail.subject

    victim = Client()
    assert victim.get(invitation_link(invitation_mail)).status_code == 302  # sign in (or up) first
    _sign_up_and_confirm(victim, "victim@startup.example")  # not "account already exists"
    assert victim.post(invitation_link(invitation_mail)).status_code == 302
    user = get_user_model().objects.get(email="victim@startup.example")
    [grant] = _members_of(world.acme, user)
    assert grant.builtin_role == "editor" and grant.scope == "organisation"
    assert len(_events(world.acme, "invitation.accepted")) == 1
    assert not _members_of(world.globex, user)


def _placeholder(email):
    """An account as add-member made them before invitations: no password, no EmailAddress, never used."""
    user = get_user_model().objects.model(email=email, username=email)
    user.set_unusable_password()
    user.save()
    return user


def _reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body).group(1)


def test_the_owner_of_a_squatted_address_claims_it_without_the_grants_they_never_accepted(world):
    squatted = _placeholder("victim@startup.example")
    with context.tenant_context(world.acme.organisation.id):
        actions.add_membership(world.acme.organisation, user=squatted, role="editor")
        actions.add_membership(world.acme.organisation, user=squatted, role="admin", project=world.acme.project)

    owner = Client()
    # Sign-up is answered with an email to the address that leads to a reset link: the claim.
    owner.post(reverse("account_signup"), {"email": "victim@startup.example", "password1": NEW_PASSWORD,
                                           "password2": NEW_PASSWORD})
    already = mail.outbox[-1]
    assert already.to == ["victim@startup.example"] and reverse("account_reset_password") in already.body
    owner.post(reverse("account_reset_password"), {"email": "victim@startup.example"})
    form_url = owner.get(_reset_link(mail.outbox[-1])).url
    outbox_before = len(mail.outbox)
    assert owner.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302

    assert _members_of(world.acme, squatted) == []  # nothing inherited
    assert len(_events(world.acme, "member.removed")) == 2
    created = _events(world.acme, "invitation.created")
    assert len(created) == 2 and {e.changes["reason"] for e in created} == {"unaccepted_grant_of_claimed_account"}
    invitations = [m for m in mail.outbox[outbox_before:] if m.to == ["victim@startup.example"]
                   and "invited" in m.subject]
    assert len(invitations) == 2

    # The reset link proved the address: they sign in at once and accept what they want.
    assert sign_in(owner, "victim@startup.example", NEW_PASSWORD).status_code == 302
    editor_invitation = next(m for m in invitations if "role Editor on the organisation" in m.body)
    assert accept_invitation(owner, editor_invitation).status_code == 302
    [grant] = _members_of(world.acme, squatted)
    assert grant.builtin_role == "editor" and grant.scope == "organisation"


def test_a_claimed_account_keeps_grants_of_an_organisation_that_verified_its_domain(world):
    with context.tenant_context(world.acme.organisation.id):
        world.acme.domain.verified_at = timezone.now()
        world.acme.domain.save()
    squatted = _placeholder("pat@acme-claimed.example")
    with context.tenant_context(world.acme.organisation.id):
        actions.add_membership(world.acme.organisation, user=squatted, role="viewer")
    with context.tenant_context(world.globex.organisation.id):
        actions.add_membership(world.globex.organisation, user=squatted, role="viewer")
    client = Client()
    client.post(reverse("account_reset_password"), {"email": "pat@acme-claimed.example"})
    form_url = client.get(_reset_link(mail.outbox[-1])).url
    assert client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302
    assert len(_members_of(world.acme, squatted)) == 1  # acme proved it owns the address
    assert _members_of(world.globex, squatted) == []  # globex did not: an invitation instead
    assert len(_events(world.globex, "invitation.created")) == 1


def test_a_used_account_is_not_treated_as_unclaimed(world):
    editor = world.acme.users["editor"]
    client = Client()
    client.post(reverse("account_reset_password"), {"email": editor.email})
    form_url = client.get(_reset_link(mail.outbox[-1])).url
    assert client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302
    assert len(_members_of(world.acme, editor)) == 1  # it has a password: its grants are its own


# Finding 6: enumeration and consent --------------------------------------------------------------


def test_add_member_answers_alike_and_adds_nobody_without_consent(world, client_for):
    admin = client_for(world.acme.users["admin"])
    outsider = world.globex.users["owner"]
    known = _post(admin, MEMBERS, {"email": outsider.email, "role": "viewer"})
    unknown = _post(admin, MEMBERS, {"email": "nobody@startup.example", "role": "viewer"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == {"status": "invited", "email": outsider.email}
    assert unknown.json() == {"status": "invited", "email": "nobody@startup.example"}
    assert _members_of(world.acme, outsider) == []  # not a member until they accept

    # Before accepting, the invited outsider reads nothing of acme.
    reader = Client()
    signed_in_with_second_factor(reader, outsider)
    assert reader.get(MEMBERS).status_code == 404
    assert reader.get(reverse("console:members", kwargs={"org": "acme"})).status_code == 404
    assert b"Acme Corp" not in reader.get(reverse("console:organisations")).content

    # The audit tells nothing of whether an account existed.
    for event in _events(world.acme, "invitation.created"):
        assert set(event.changes) == {"email", "role", "scope", "workspace", "project", "reason"}
        assert "account" not in json.dumps(event.changes)

    # When they accept, they join.
    [message] = [m for m in mail.outbox if m.to == [outsider.email]]
    assert accept_invitation(reader, message).status_code == 302
    assert len(_members_of(world.acme, outsider)) == 1
    assert reader.get(MEMBERS).status_code == 200


def test_console_add_member_invites_and_answers_alike(world, client_for):
    admin = client_for(world.acme.users["admin"])
    url = reverse("console:member_add", kwargs={"org": "acme"})
    answers = []
    for email in (world.globex.users["viewer"].email, "nobody@startup.example"):
        response = admin.post(url, {"email": email, "role": "viewer", "scope": ""}, follow=True)
        assert response.status_code == 200
        answers.append([str(m).replace(email, "<email>") for m in response.context["messages"]])
    assert answers[0] == answers[1] and "Invitation sent" in answers[0][0]
    assert _members_of(world.acme, world.globex.users["viewer"]) == []
    page = admin.get(reverse("console:members", kwargs={"org": "acme"}))
    assert b"nobody@startup.example" in page.content  # listed as pending
    assert b"globex" not in admin.get(reverse("console:members", kwargs={"org": "acme"})).content.replace(
        world.globex.users["viewer"].email.encode(), b"")


def test_an_account_on_a_verified_domain_is_added_at_once(world, client_for, django_user_model):
    with context.tenant_context(world.acme.organisation.id):
        world.acme.domain.verified_at = timezone.now()
        world.acme.domain.save()
    staff = django_user_model.objects.create_user(email="pat@acme-claimed.example", password=PASSWORD,
                                                  email_verified=True)
    added = _post(client_for(world.acme.users["admin"]), MEMBERS, {"email": staff.email, "role": "viewer"})
    assert added.status_code == 202 and added.json()["status"] == "added"
    assert len(_members_of(world.acme, staff)) == 1


# Invitations themselves -------------------------------------------------------------------------


def test_an_inviter_offers_only_what_they_could_grant(world, client_for):
    admin = client_for(world.acme.users["admin"])
    refused = _post(admin, MEMBERS, {"email": "friend@startup.example", "role": "owner"})
    assert refused.status_code == 422 and refused.json()["error"]["fields"]["role"][0]["code"] == "owner_only"
    assert mail.outbox == [] and _events(world.acme, "invitation.created") == []


def test_acceptance_rechecks_what_the_inviter_holds_now(world, client_for, django_user_model):
    admin = world.acme.users["admin"]
    assert _post(client_for(admin), MEMBERS, {"email": "friend@startup.example", "role": "editor"}).status_code == 202
    with context.tenant_context(world.acme.organisation.id):
        actions.change_membership_role(Membership.objects.get(user=admin, workspace=None, project=None), role="viewer")
    friend = django_user_model.objects.create_user(email="friend@startup.example", password=PASSWORD,
                                                   email_verified=True)
    refused = accept_invitation(client_for(friend), mail.outbox[-1])
    assert refused.status_code == 409 and b"can no longer add members" in refused.content
    assert _members_of(world.acme, friend) == []


def test_only_the_verified_owner_of_the_address_can_see_or_accept(world, client_for, django_user_model):
    link = f"/invitations/{world.acme.invitation_token}/"
    outsider = client_for(world.globex.users["owner"])
    for response in (outsider.get(link), outsider.post(link)):
        assert response.status_code == 403
        assert b"Acme" not in response.content and b"viewer" not in response.content
    unverified = django_user_model.objects.create_user(email=world.acme.invitation.email, password=PASSWORD)
    assert client_for(unverified).post(link).status_code == 403
    assert _members_of(world.acme, unverified) == [] and _members_of(world.acme, world.globex.users["owner"]) == []
    assert Client().get(link).status_code == 302  # anonymous: to the sign-in page


def test_bad_expired_used_and_withdrawn_links_are_refused_clearly(world, client_for, django_user_model):
    invitee = django_user_model.objects.create_user(email=world.acme.invitation.email, password=PASSWORD,
                                                    email_verified=True)
    client = client_for(invitee)
    assert client.get("/invitations/bst_nonsense/").status_code == 404
    tampered = world.acme.invitation_token[:-8] + ("A" * 8)
    assert client.post(f"/invitations/{tampered}/").status_code == 404
    link = f"/invitations/{world.acme.invitation_token}/"
    with context.tenant_context(world.acme.organisation.id):
        Invitation.objects.filter(id=world.acme.invitation.id).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.post(link).status_code == 410
    with context.tenant_context(world.acme.organisation.id):
        Invitation.objects.filter(id=world.acme.invitation.id).update(
            expires_at=timezone.now() + datetime.timedelta(days=1))
    assert client.post(link).status_code == 302
    assert client.post(link).status_code == 410  # once only
    assert len(_members_of(world.acme, invitee)) == 1


def test_members_managers_list_and_withdraw_invitations(world, client_for, django_user_model):
    admin = client_for(world.acme.users["admin"])
    listed = admin.get("/api/v1/orgs/acme/invitations").json()["items"]
    assert [i["email"] for i in listed] == [world.acme.invitation.email]
    assert client_for(world.acme.users["viewer"]).get("/api/v1/orgs/acme/invitations").status_code == 403
    assert client_for(world.globex.users["owner"]).get("/api/v1/orgs/acme/invitations").status_code == 404
    assert admin.delete(f"/api/v1/orgs/acme/invitations/{world.globex.invitation.id}").status_code == 404
    assert admin.delete(f"/api/v1/orgs/acme/invitations/{world.acme.invitation.id}").status_code == 204
    assert admin.get("/api/v1/orgs/acme/invitations").json()["items"] == []
    assert len(_events(world.acme, "invitation.revoked")) == 1
    invitee = django_user_model.objects.create_user(email=world.acme.invitation.email, password=PASSWORD,
                                                    email_verified=True)
    assert client_for(invitee).post(f"/invitations/{world.acme.invitation_token}/").status_code == 410
    assert admin.delete(f"/api/v1/orgs/acme/invitations/{world.acme.invitation.id}").status_code == 422


def test_console_withdraws_an_invitation(world, client_for):
    admin = client_for(world.acme.users["admin"])
    page = admin.get(reverse("console:members", kwargs={"org": "acme"}))
    assert world.acme.invitation.email.encode() in page.content
    assert world.globex.invitation.email.encode() not in page.content
    url = reverse("console:invitation_revoke", kwargs={"org": "acme", "invitation_id": world.acme.invitation.id})
    assert admin.post(url).status_code == 302
    with context.tenant_context(world.acme.organisation.id):
        assert Invitation.objects.get(id=world.acme.invitation.id).revoked_at is not None


def test_invitations_are_confined_to_their_organisation(world):
    with context.tenant_context(world.globex.organisation.id):
        assert not Invitation.objects.filter(id=world.acme.invitation.id).exists()


@pytest.mark.postgres_only
def test_row_level_security_hides_another_organisations_invitations(world):
    with context.tenant_context(world.globex.organisation.id):
        assert not Invitation.all_tenants.filter(id=world.acme.invitation.id).exists()
        assert Invitation.all_tenants.count() == 1


def test_an_api_key_invites_on_behalf_of_its_creator_for_the_configured_time(world, client, settings,
                                                                            django_user_model, client_for):
    settings.BASTION_INVITATION_DAYS = 2
    admin = client_for(world.acme.users["admin"])
    created = _post(admin, "/api/v1/orgs/acme/api-keys", {"name": "HR sync", "scopes": sorted(BUILTIN_ROLES["editor"] | {"members.view", "members.manage"})})
    token = created.json()["token"]
    invited = client.post(MEMBERS, json.dumps({"email": "hire@startup.example", "role": "editor"}),
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert invited.status_code == 202 and invited.json()["status"] == "invited", invited.content
    with context.tenant_context(world.acme.organisation.id):
        invitation = Invitation.objects.get(email="hire@startup.example")
    assert invitation.invited_by_id == world.acme.users["admin"].pk
    lifetime = invitation.expires_at - invitation.created_at
    assert datetime.timedelta(days=2) - datetime.timedelta(minutes=1) < lifetime <= datetime.timedelta(days=2)
    hire = django_user_model.objects.create_user(email="hire@startup.example", password=PASSWORD, email_verified=True)
    assert accept_invitation(client_for(hire), mail.outbox[-1]).status_code == 302
    [grant] = _members_of(world.acme, hire)
    assert grant.builtin_role == "editor"


def test_an_invitation_for_someone_already_a_member_is_refused_cleanly(world, client_for):
    viewer = world.acme.users["viewer"]
    assert _post(client_for(world.acme.users["admin"]), MEMBERS, {"email": viewer.email, "role": "editor"}).status_code == 202
    refused = accept_invitation(client_for(viewer), mail.outbox[-1])
    assert refused.status_code == 409 and b"already has a role" in refused.content
    [grant] = _members_of(world.acme, viewer)
    assert grant.builtin_role == "viewer"
    assert _events(world.acme, "invitation.accepted") == []


def test_an_organisation_name_with_a_line_break_does_not_break_the_email(world, client_for):
    with context.tenant_context(world.acme.organisation.id):
        actions.update_organisation(world.acme.organisation, name="Acme\r\nBcc: victim@startup.example")
    invited = _post(client_for(world.acme.users["admin"]), MEMBERS, {"email": "friend@startup.example", "role": "viewer"})
    assert invited.status_code == 202
    assert mail.outbox[-1].to == ["friend@startup.example"] and "\n" not in mail.outbox[-1].subject
    assert mail.outbox[-1].bcc == []
