"""Each request is one structured log line: its request id (the X-Request-ID header's and its audit
events'), organisation id, user id, route, status and duration; never an email address, a client
address, an organisation's name or slug, or the path. JSON for servers, a console format for people."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
import structlog

from bastion.audit.models import AuditEvent
from bastion.operations.logs import logging_config
from bastion.tenancy import context
from tests.conftest import PASSWORD
from tests.live_server import ROOT
from tests.sign_in import sign_in

CLIENT_IP = "198.51.100.23"


@pytest.fixture
def json_lines():
    """Everything logged during the test, as the JSON formatter writes it for `bastion serve`."""
    options = dict(logging_config("json", "INFO")["formatters"]["structured"])
    options.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(**options))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)


def test_a_request_line_carries_ids_and_the_audit_events_request_id(world, client_for, json_lines):
    acme = world.acme
    admin = client_for(acme.users["admin"])
    response = admin.patch(f"/api/v1/orgs/acme/projects/{acme.project.id}/suppliers/{acme.supplier.id}",
                           content_type="application/json", data=json.dumps({"name": "Acme Freight"}),
                           REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 200, response.content
    request_id = response["X-Request-ID"]
    [line] = [line for line in json_lines() if line.get("request_id") == request_id]
    assert line["event"] == "request" and line["logger"] == "bastion.request"
    assert line["route"] == "/api/v1/orgs/<org>/projects/<project_id>/suppliers/<supplier_id>"
    assert line["method"] == "PATCH" and line["status"] == 200 and line["duration_ms"] > 0
    assert line["organisation_id"] == str(acme.organisation.id)
    assert line["user_id"] == str(acme.users["admin"].pk)
    with context.tenant_context(acme.organisation.id):
        event = AuditEvent.objects.filter(chain_id=acme.organisation.id, action="supplier.updated").last()
    assert event is not None and event.request_id == request_id


def test_no_person_address_or_organisation_name_in_any_log_line(world, client, client_for, json_lines):
    from django.test import Client

    acme, globex = world.acme, world.globex
    sign_in(Client(REMOTE_ADDR=CLIENT_IP), acme.users["viewer"].email, PASSWORD)
    for _ in range(6):
        sign_in(Client(REMOTE_ADDR=CLIENT_IP), acme.users["editor"].email, "not the password")
    sign_in(Client(REMOTE_ADDR=CLIENT_IP), "nobody@acme.example", "not the password")
    client_for(acme.users["admin"]).get(f"/o/acme/p/{acme.project.id}/suppliers/", REMOTE_ADDR=CLIENT_IP)
    client_for(globex.users["owner"]).get("/api/v1/orgs/acme/members", REMOTE_ADDR=CLIENT_IP)  # the outsider
    client.get("/no/such/page/acme", REMOTE_ADDR=CLIENT_IP)
    lines = json_lines()
    assert sum(1 for line in lines if line.get("event") == "request") >= 10
    text = "\n".join(json.dumps(line) for line in lines)
    forbidden = [CLIENT_IP, "nobody@acme.example", "/no/such/page", acme.supplier.contact_email]
    for organisation in (acme, globex):
        forbidden += [organisation.organisation.name, f"/orgs/{organisation.slug}/", f"/o/{organisation.slug}/"]
        forbidden += [user.email for user in organisation.users.values()]
    assert [value for value in forbidden if value in text] == []


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_the_format_is_a_setting(log_format, tmp_path):
    env = {**os.environ, "BASTION_DATA_DIR": str(tmp_path), "BASTION_LOG_FORMAT": log_format}
    env.pop("DATABASE_URL", None)
    env.pop("DATABASE_ADMIN_URL", None)
    done = subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "shell", "-c",
                           "import logging; logging.getLogger('bastion.test').warning('hello %s', 'there')"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    [line] = [line for line in done.stdout.splitlines() if "hello there" in line]
    if log_format == "json":
        assert json.loads(line)["event"] == "hello there" and json.loads(line)["level"] == "warning"
    else:
        assert line.lstrip().startswith("20") and "[warning" in line and "bastion.test" in line


def test_a_bad_format_is_refused_in_one_line(tmp_path):
    env = {**os.environ, "BASTION_DATA_DIR": str(tmp_path), "BASTION_LOG_FORMAT": "xml"}
    done = subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "BASTION_LOG_FORMAT" in done.stderr and len(done.stderr.splitlines()) == 1
