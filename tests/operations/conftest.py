"""Fixtures of the status-page tests: a real SMTP server (aiosmtpd) that keeps what it receives,
jobs run at once (Huey's immediate mode) and platform staff with a second factor."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture(scope="session")
def smtp_inbox():
    """aiosmtpd on a free port of 127.0.0.1 for the session; each test empties ``messages`` first."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    inbox.port = port
    yield inbox
    server.stop()


@pytest.fixture
def smtp(settings, smtp_inbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    smtp_inbox.messages.clear()
    return smtp_inbox


@pytest.fixture
def jobs_now():
    from huey.contrib.djhuey import HUEY

    saved, HUEY.immediate = HUEY.immediate, True
    yield
    HUEY.immediate = saved


@pytest.fixture
def staff(db, django_user_model):
    """A platform operator (``is_staff``) with an authenticator app, as the console requires."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = django_user_model.objects.create_user(email="operator@bastion-platform.example", password="x" * 20,
                                                 email_verified=True, is_staff=True)
    TOTP.activate(user, generate_totp_secret())
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
