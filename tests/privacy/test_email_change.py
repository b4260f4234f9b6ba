"""Correcting one's email address reuses allauth's flow (linked from /accounts/privacy/): a code is
sent to the new address (ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED), the address joins the account
only once that code is entered, then it is made primary and the old address is told. Accounts with
a second factor change theirs the same way: allauth refuses them only for addresses added unverified
(which could squat someone else's address), and by code nothing is added unproven."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from tests.conftest import PASSWORD
from tests.sign_in import mailed_code, reauthenticate, signed_in_with_second_factor

NEW = "zebulon@quixworth-mail.example"


@pytest.fixture
def viewer(world):
    return world.acme.users["viewer"]


def _change_email(person, person_client, capture) -> None:
    old = person.email
    assert "/accounts/email/" in person_client.get("/accounts/privacy/").content.decode()
    with capture(execute=True):
        added = person_client.post("/accounts/email/", {"email": NEW, "action_add": ""})
    assert added.status_code == 302 and added.url == "/accounts/confirm-email/", (
        added.context["form"].errors if added.context else added.status_code)
    [confirmation] = [m for m in mail.outbox if m.to == [NEW]]
    # Nothing changes before the new address is proven: it is not even the account's yet.
    assert not EmailAddress.objects.filter(email__iexact=NEW).exists()
    person_client.post("/accounts/email/", {"email": NEW, "action_primary": ""})
    person.refresh_from_db()
    assert person.email == old
    assert person_client.post("/accounts/confirm-email/", {"code": "WRONG1"}).status_code == 200
    assert not EmailAddress.objects.filter(email__iexact=NEW).exists()
    assert person_client.post("/accounts/confirm-email/", {"code": mailed_code(confirmation)}).status_code == 302
    assert EmailAddress.objects.get(user=person, email__iexact=NEW).verified
    with capture(execute=True):
        assert person_client.post("/accounts/email/", {"email": NEW, "action_primary": ""}).status_code == 302
    person.refresh_from_db()
    assert person.email == NEW
    notices = [m for m in mail.outbox if m.to == [old]]
    assert notices and NEW in notices[-1].body


def test_an_email_change_is_confirmed_at_the_new_address_and_told_to_the_old(viewer, django_capture_on_commit_callbacks):
    person_client = signed_in_with_second_factor(Client(), viewer)  # no second factor: a fresh sign-in
    reauthenticate(person_client, PASSWORD)  # allauth asks for the password again before account changes
    _change_email(viewer, person_client, django_capture_on_commit_callbacks)


def test_an_account_with_a_second_factor_changes_its_address_the_same_way(person, person_client,
                                                                            django_capture_on_commit_callbacks):
    assert EmailAddress.objects.filter(user=person).exists()
    reauthenticate(person_client, PASSWORD)
    _change_email(person, person_client, django_capture_on_commit_callbacks)


def test_an_outsider_cannot_take_an_address_by_adding_it_unproven(world, client_for):
    """Another organisation's admin adds our person's address: it is never attached to their account."""
    outsider, victim = world.globex.users["admin"], world.acme.users["viewer"]
    outsider_client = client_for(outsider)
    reauthenticate(outsider_client, PASSWORD)
    outsider_client.post("/accounts/email/", {"email": "someone.else@quixworth-mail.example", "action_add": ""})
    assert not EmailAddress.objects.filter(user=outsider, email__iexact="someone.else@quixworth-mail.example").exists()
    outsider_client.post("/accounts/email/", {"email": victim.email, "action_add": ""})
    assert not EmailAddress.objects.filter(user=outsider, email__iexact=victim.email).exists()
    victim.refresh_from_db()
    assert EmailAddress.objects.get(email__iexact=victim.email).user_id == victim.pk
