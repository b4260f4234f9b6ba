"""Acceptance, in Chromium against ``bastion demo``: a person signed in with a second factor exports
their data and downloads it once (a second download fails), corrects their name, asks for their
account's deletion, cancels it from the emailed link, asks again, and once the grace period is over
(the erasure job run with a clock 31 days ahead) can no longer sign in."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile

import pytest
from playwright.sync_api import expect

from tests.live_server import ROOT, demo_server
from tests.sign_in import totp_code

PERSON = "admin@acme.example"  # not an owner: nothing to hand over first
PSEUDONYM_OF = f"""
import django; django.setup()
from django.contrib.auth import get_user_model
from bastion.audit.models import Pseudonym
from bastion.tenancy import context
from bastion.tenancy.models import Organisation
with context.platform_scope():
    acme = Organisation.objects.get(slug="acme")
    user = get_user_model().objects.get(email="{PERSON}")
    print(Pseudonym.objects.get(chain_id=acme.id, user_id=user.pk).pseudonym)
"""

ERASE_DUE_LATER = """
import datetime, django, json
django.setup()
from bastion.audit.context import SYSTEM, acting_as
from bastion.privacy import account_deletion
with acting_as(SYSTEM):
    run = account_deletion.erase_due(now=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=31))
print(json.dumps({"erased": [r.user_id for r in run.erased], "suspended": len(run.suspended)}))
"""


@pytest.fixture(scope="module")
def live():
    # Jobs run inside the request that enqueues them, so the export is ready when the page comes back.
    with demo_server({"BASTION_JOBS_IMMEDIATE": "true"}) as server:
        yield server


@pytest.fixture(scope="module")
def chromium(browser):
    return browser  # the session's one browser (tests/conftest.py)


def _cli(live, *args):
    return subprocess.run([sys.executable, "-m", "bastion.cli", *args], cwd=ROOT, env=live.env, capture_output=True,
                          text=True, timeout=180)


def _python_out(live, code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**live.env, "DJANGO_SETTINGS_MODULE": "bastion.settings"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def _page(chromium, live):
    context = chromium.new_context(base_url=live.url, accept_downloads=True)
    return context.new_page()


def _password_step(page, password):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", PERSON)
    page.fill("input[name=password]", password)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()


def _mailed_link(live, pattern: str, after: int) -> str:
    links = re.findall(r"http://localhost:\d+(" + pattern + r")", live.log.read_text(errors="replace")[after:])
    assert links, f"no email with {pattern} in the server log"
    return links[-1]


def _confirm_second_factor_if_asked(page, secret: str, steps: int) -> bool:
    if "/accounts/2fa/reauthenticate/" not in page.url:
        return False
    page.fill("input[name=code]", totp_code(secret, steps=steps))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    return True


def test_export_correct_delete_cancel_delete_and_be_erased(chromium, live):
    page = _page(chromium, live)
    _password_step(page, live.password)
    page.goto("/accounts/2fa/totp/activate/")  # an admin enrols a second factor at their first sign-in
    if "/accounts/reauthenticate/" in page.url:
        page.fill("input[name=password]", live.password)
        page.click("form[action='/accounts/reauthenticate/'] button[type=submit]")
        page.wait_for_load_state()
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("input[name=code]", totp_code(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("Recovery Codes")

    # Export my data, download it once.
    page.goto("/accounts/privacy/")
    page.click("#export-request")
    expect(page.locator("#export-state")).to_contain_text("Ready")
    with page.expect_download() as download:
        page.click("#export-download")
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    data = json.loads(archive.read("bastion-personal-data.json"))
    assert data["profile"][0]["email"] == PERSON and data["authenticators"]
    assert {m["organisation"] for m in data["memberships"]} == {"acme"}
    second = page.goto("/accounts/privacy/export/download/")
    assert second.status == 410
    expect(page.locator("#export-gone")).to_be_visible()

    # Correct my name.
    page.goto("/accounts/privacy/")
    page.fill("#first_name", "Adelaide")
    page.click("#profile-save")
    page.wait_for_load_state()
    expect(page.locator("#first_name")).to_have_value("Adelaide")

    # Ask for deletion (a second factor used just now), cancel from the emailed link, ask again.
    log_size = len(live.log.read_text(errors="replace"))
    page.click("#deletion-request")
    page.wait_for_load_state()
    if _confirm_second_factor_if_asked(page, secret, steps=1):
        page.goto("/accounts/privacy/")
        page.click("#deletion-request")
        page.wait_for_load_state()
    expect(page.locator("#deletion-due")).to_be_visible()
    page.goto(_mailed_link(live, r"/accounts/privacy/cancel-deletion/[^\s]+/", log_size))
    page.click("#confirm-cancel")
    expect(page.locator("#cancelled")).to_be_visible()
    page.goto("/accounts/privacy/")
    page.click("#deletion-request")
    page.wait_for_load_state()
    expect(page.locator("#deletion-due")).to_be_visible()

    pseudonym = _python_out(live, PSEUDONYM_OF)  # who they are in acme's chain, before it is forgotten

    # The grace period passes: the daily job, with its clock 31 days ahead.
    env = {**live.env, "DJANGO_SETTINGS_MODULE": "bastion.settings"}
    done = subprocess.run([sys.executable, "-c", ERASE_DUE_LATER], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(json.loads(done.stdout.strip().splitlines()[-1])["erased"]) == 1

    # The old session is gone, and the password no longer signs in.
    page.goto("/accounts/privacy/")
    assert "/accounts/login/" in page.url
    again = _page(chromium, live)
    _password_step(again, live.password)
    again.goto("/o/acme/")
    assert "/accounts/login/" in again.url
    page.context.close()
    again.context.close()

    # Their events in acme's chain still verify, and neither the chain nor its export names them:
    # no email, name or address beside any event that was theirs.
    verified = _cli(live, "audit", "verify", "--org", "acme", "--no-record")
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
    exported = _cli(live, "audit", "export", "--org", "acme")
    assert exported.returncode == 0, exported.stderr[-2000:]
    records = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
    theirs = [r for r in records if r["type"] == "event" and r["body"]["actor"]["id"] == pseudonym]
    assert theirs, "the person's events are still in the chain"
    assert all("personal" not in e or pseudonym not in e["personal"] for e in theirs)
    for name in (PERSON, "Adelaide", "127.0.0.1"):
        assert name not in json.dumps(theirs)
    assert PERSON not in exported.stdout and "Adelaide" not in exported.stdout
