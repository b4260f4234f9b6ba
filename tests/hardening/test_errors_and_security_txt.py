"""Errors never show a traceback, settings or SQL; DEBUG refuses to run for other hosts than
localhost; /.well-known/security.txt follows RFC 9116; CSP violation reports are kept."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys

import pytest
from django.test import Client
from django.utils import timezone

from bastion.hardening.models import CspViolation
from tests.sign_in import signed_in_with_second_factor

pytestmark = pytest.mark.django_db
SECRET_LOOKING = "SELECT password FROM identity_user WHERE secret_key='hunter2'"
LEAKS = (b"Traceback", b"SELECT", b"hunter2", b"SECRET_KEY", b"File \"", b"RuntimeError")


def _boom(*args, **kwargs):
    raise RuntimeError(SECRET_LOOKING)


def test_a_forced_exception_shows_no_traceback_in_the_console(world, monkeypatch):
    from bastion.console.views import workspaces

    monkeypatch.setattr(workspaces, "render", _boom)
    client = Client(raise_request_exception=False)
    signed_in_with_second_factor(client, world.acme.users["viewer"])
    response = client.get("/o/acme/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert not any(leak in response.content for leak in LEAKS)
    assert response.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response.headers


def test_a_forced_exception_shows_no_traceback_in_the_api(world, monkeypatch):
    from bastion.api import organisations

    monkeypatch.setattr(organisations, "organisations_of", _boom)
    client = Client(raise_request_exception=False)
    signed_in_with_second_factor(client, world.acme.users["viewer"])
    response = client.get("/api/v1/orgs")
    assert response.status_code == 500 and response.json()["error"]["code"] == "server_error"
    assert not any(leak in response.content for leak in LEAKS)


@pytest.mark.parametrize("hosts", ["example.com", "localhost,bastion.example.com", "*"])
def test_debug_refuses_hosts_other_than_localhost(tmp_path, hosts):
    env = {"BASTION_DEBUG": "true", "BASTION_ALLOWED_HOSTS": hosts, "BASTION_DATA_DIR": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "check"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "BASTION_DEBUG" in result.stderr and "Traceback" not in result.stderr


def test_debug_refuses_to_serve_beyond_localhost(tmp_path):
    env = {"BASTION_DEBUG": "true", "BASTION_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bastion.cli", "serve", "--host", "0.0.0.0", "--no-jobs"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "BASTION_DEBUG is on" in result.stderr and "Traceback" not in result.stderr


def test_debug_is_allowed_on_localhost(tmp_path):
    env = {"BASTION_DEBUG": "true", "BASTION_ALLOWED_HOSTS": "localhost,127.0.0.1", "BASTION_DATA_DIR": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "check"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_security_txt_follows_rfc_9116(settings):
    settings.BASTION_SECURITY_CONTACTS = ["mailto:security@bastion.example", "https://bastion.example/report"]
    settings.BASTION_SECURITY_POLICY_URL = "https://bastion.example/disclosure"
    response = Client().get("/.well-known/security.txt", secure=True)
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    fields = [line.split(": ", 1) for line in response.content.decode().splitlines()]
    values = {}
    for name, value in fields:
        values.setdefault(name, []).append(value)
    assert values["Contact"] == ["mailto:security@bastion.example", "https://bastion.example/report"]
    assert values["Policy"] == ["https://bastion.example/disclosure"]
    assert values["Canonical"] == ["https://testserver/.well-known/security.txt"]
    assert values["Acknowledgments"] == ["https://testserver/security/acknowledgments"]
    expires = datetime.datetime.strptime(values["Expires"][0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    assert timezone.now() < expires < timezone.now() + datetime.timedelta(days=366)

    settings.BASTION_SECURITY_POLICY_URL = ""  # the policy Bastion publishes itself, with its report form
    text = Client().get("/.well-known/security.txt", secure=True).content.decode()
    assert "Policy: https://testserver/security\n" in text


def test_csp_reports_are_kept_and_bad_ones_refused():
    client = Client()
    report = {"csp-report": {"document-uri": "https://bastion.example/o/acme/", "violated-directive": "script-src",
                             "blocked-uri": "inline", "line-number": 12, "script-sample": "alert(1)"}}
    assert client.post("/csp-report/", json.dumps(report), content_type="application/csp-report").status_code == 204
    modern = [{"type": "csp-violation", "body": {"documentURL": "https://bastion.example/", "effectiveDirective":
                                                 "img-src", "blockedURL": "https://tracker.example/p.gif"}}]
    assert client.post("/csp-report/", json.dumps(modern), content_type="application/reports+json").status_code == 204
    assert [(v.violated_directive, v.line_number) for v in CspViolation.objects.order_by("id")] == [
        ("script-src", 12), ("img-src", None)]
    assert client.post("/csp-report/", "not json", content_type="application/csp-report").status_code == 400
    big = json.dumps({"csp-report": {"document-uri": "x" * 70000}})
    assert client.post("/csp-report/", big, content_type="application/csp-report").status_code == 413
    assert client.get("/csp-report/").status_code == 405
    assert CspViolation.objects.count() == 2


def test_the_csp_report_endpoint_is_rate_limited(settings):
    settings.BASTION_RATE_LIMITS = {"CSP_REPORT_IP": "2/m"}
    report = json.dumps({"csp-report": {"document-uri": "https://bastion.example/", "violated-directive": "img-src"}})
    client = Client(REMOTE_ADDR="203.0.113.99")
    answers = [client.post("/csp-report/", report, content_type="application/csp-report").status_code
               for _ in range(3)]
    assert answers == [204, 204, 429] and CspViolation.objects.count() == 2
