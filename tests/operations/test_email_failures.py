"""An email the delivery backend fails to send is counted; one it sends is not."""

from __future__ import annotations

import socket

import pytest
from django.core import mail

from bastion.operations.metrics import EMAIL_FAILURES


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_failed_sends_are_counted(settings):
    settings.EMAIL_BACKEND = "bastion.operations.email_backend.MeteredEmailBackend"
    settings.BASTION_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    before = EMAIL_FAILURES._value.get()
    with pytest.raises(OSError):
        mail.send_mail("subject", "body", None, ["someone@example.com"])
    assert mail.send_mail("subject", "body", None, ["someone@example.com"], fail_silently=True) == 0
    assert EMAIL_FAILURES._value.get() - before == 2

    settings.BASTION_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert mail.send_mail("subject", "body", None, ["someone@example.com"]) == 1
    assert EMAIL_FAILURES._value.get() - before == 2
    assert len(mail.outbox) == 1
