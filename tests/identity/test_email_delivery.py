"""Account emails go through Django's email backend: to a real SMTP server (aiosmtpd, the session's
``smtp`` fixture) when BASTION_SMTP_HOST is set, as in production."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.test import Client

from tests.live_server import ROOT

pytestmark = pytest.mark.django_db


def test_the_environment_selects_smtp(tmp_path):
    env = {"BASTION_DATA_DIR": str(tmp_path), "BASTION_SMTP_HOST": "smtp.bastion.example",
           "BASTION_SMTP_PORT": "2525", "PATH": "/usr/bin:/bin"}
    code = "from django.conf import settings as s; print(s.BASTION_EMAIL_DELIVERY_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS)"
    result = subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "shell", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1].split() == ["django.core.mail.backends.smtp.EmailBackend",
                                                            "smtp.bastion.example", "2525",
                                     "True"], result.stderr


def test_a_reset_link_is_delivered_over_smtp(world, smtp):
    assert Client().post("/accounts/password/reset/", {"email": "editor@acme.example"}).status_code == 302
    [message] = smtp.messages
    assert message["To"] == "editor@acme.example"
    body = message.get_payload(decode=True) if not message.is_multipart() else message.get_payload()[0].get_payload(
        decode=True)
    assert b"/accounts/password/reset/key/" in body
