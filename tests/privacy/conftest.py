"""Fixtures of the privacy tests: a person with a distinctive name and address to look for."""

from __future__ import annotations

import pytest
from django.test import Client
from huey.contrib.djhuey import HUEY

from tests.sign_in import signed_in_with_second_factor

PERSON_IP = "203.0.113.77"


@pytest.fixture
def jobs_run_at_once():
    """Jobs enqueued by a request run in it, so a test sees their result (the real consumer runs them in
    ``bastion serve``; tests/test_job_worker_logs.py covers the queue)."""
    saved = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = saved


@pytest.fixture
def person(world):
    """Acme's editor, renamed to something no other row could contain by chance, with an authenticator app."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = world.acme.users["editor"]
    user.first_name, user.last_name = "Zebulon", "Quixworth"
    user.save()
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def person_client(person):
    return signed_in_with_second_factor(Client(REMOTE_ADDR=PERSON_IP), person)
