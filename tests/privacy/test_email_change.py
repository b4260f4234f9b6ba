"""Correcting one's email address reuses allauth's flow (linked from /accounts/privacy/): the new
address is confirmed by a link sent to it, and only then becomes the account's; the old address is told.

Not yet for accounts with a second factor: allauth refuses to add an address to them unless addresses
are verified by code (ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED), an identity-wide decision left
open (docs/privacy.md); the last test pins today's refusal so that the change is noticed."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import PASSWORD
from tests.sign_in import reauthenticate, signed_in_with_second_factor

NEW = "zebulon@quixworth-mail.example"


@pytest.fixture
def viewer(world):
    return world.acme.users["viewer"]


def test_an_email_change_is_confirmed_at_the_new_address_and_told_to_the_old(viewer, django_capture_on_commit_callbacks):
    person, person_client = viewer, signed_in_with_second_factor(Client(), viewer)  # no second factor: a fresh sign-in
    reauthenticate(person_client, PASSWORD)  # allauth asks for the password again before account changes
    old = person.email
    assert "/accounts/email/" in person_client.get("/accounts/privacy/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        added = person_client.post("/accounts/email/", {"email": NEW, "action_add": ""})
    assert added.status_code == 302, added.context["form"].errors if added.context else added.status_code
    assert mail.outbox, added.url
    [confirmation] = [m for m in mail.outbox if m.to == [NEW]]
    person.refresh_from_db()
    assert person.email == old  # nothing changes before the new address is proven
    # Before confirmation it cannot become the account's address.
    person_client.post("/accounts/email/", {"email": NEW, "action_primary": ""})
    person.refresh_from_db()
    assert person.email == old
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", confirmation.body).group(1)
    assert person_client.post(link).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert person_client.post("/accounts/email/", {"email": NEW, "action_primary": ""}).status_code == 302
    person.refresh_from_db()
    assert person.email == NEW
    notices = [m for m in mail.outbox if m.to == [old]]
    assert notices and NEW in notices[-1].body


def test_an_account_with_a_second_factor_cannot_add_an_address_yet(person, person_client):
    refused = person_client.post("/accounts/email/", {"email": NEW, "action_add": ""})
    assert refused.status_code == 200 and "two-factor" in str(refused.context["form"].errors)
    assert [m for m in mail.outbox if m.to == [NEW]] == []
