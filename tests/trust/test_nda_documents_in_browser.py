"""Acceptance, in Chromium against ``bastion demo`` sending its email to a real SMTP server
(aiosmtpd): security staff offer a penetration-test summary whose links live 20 seconds; a visitor
on /trust asks for it, accepts the NDA, gets the email, downloads the document by the link, and once
the link's lifetime has passed the same link answers 410 with a page saying it expired. Every step
is in the platform audit chain, and no page reports a CSP violation."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.csp_watch import violations, watched_page
from tests.live_server import ROOT, demo_server
from tests.support_access.conftest import body

LIFETIME = 20
PDF = b"%PDF-1.4\n% Penetration test summary 2026, confidential e51a\n%%EOF\n"
OFFER = f"""
import django; django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from django.contrib.auth import get_user_model
from bastion.support_access.staff import create_staff
from bastion.trust import documents
create_staff("sec@bastion-staff.example", "security")
staff = get_user_model().objects.get(email="sec@bastion-staff.example")
document = documents.upload(SimpleUploadedFile("pentest-2026.pdf", {PDF!r}, content_type="application/pdf"),
                            title="Penetration test summary 2026", kind="pentest_summary", approval="automatic",
                            access_seconds={LIFETIME}, by=staff)
print(document.id)
"""
AUDIT = """
import django; django.setup()
from django.db import transaction
from bastion.audit.models import AuditEvent
from bastion.db import rls
with transaction.atomic(), rls.setting("bastion.scope", "platform"):
    print(",".join(AuditEvent.objects.filter(action__startswith="trust.document.").order_by("seq")
                   .values_list("action", flat=True)))
"""


@pytest.fixture(scope="module")
def live(smtp_inbox):
    env = {"BASTION_SMTP_HOST": "127.0.0.1", "BASTION_SMTP_PORT": str(smtp_inbox.port),
           "BASTION_SMTP_STARTTLS": "false", "BASTION_JOBS_IMMEDIATE": "true"}
    with demo_server(env) as server:
        yield server


def _python(live, code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**live.env, "DJANGO_SETTINGS_MODULE": "bastion.settings"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_a_visitor_accepts_the_nda_downloads_by_the_emailed_link_until_it_expires(browser, live, smtp_inbox, tmp_path):
    document_id = _python(live, OFFER)
    smtp_inbox.messages.clear()
    page = watched_page(browser, live.url)
    page.goto("/trust")
    offer = page.locator(f'article.nda-document[data-document="{document_id}"]')
    expect(offer).to_contain_text("Penetration test summary 2026")
    expect(page.locator("pre.nda-text")).to_contain_text("non-disclosure agreement")

    offer.locator("input[name=name]").fill("Dana Scully")
    offer.locator("input[name=email]").fill("dana@customer.example")
    offer.locator("input[name=company]").fill("Customer Ltd")
    offer.locator("input[name=accept_nda]").check()
    offer.locator("button[type=submit]").click()
    page.wait_for_load_state()
    approved_at = time.monotonic()
    expect(page.locator(".nda-sent")).to_contain_text("has been emailed to you")

    deadline = time.monotonic() + 20
    while not smtp_inbox.messages and time.monotonic() < deadline:
        time.sleep(0.2)
    [mail] = smtp_inbox.messages
    assert mail["To"] == "dana@customer.example"
    link = re.search(r"https?://[^/\s]+(/trust/documents/link/\S+)", body(mail)).group(1)

    with page.expect_download() as started:
        try:
            page.goto(link)
        except PlaywrightError:  # Chromium turns the navigation into a download
            pass
    download = started.value
    assert download.suggested_filename == "pentest-2026.pdf"
    saved = tmp_path / "pentest.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == PDF

    time.sleep(max(0.0, approved_at + LIFETIME + 1 - time.monotonic()))
    expired = page.goto(link)
    assert expired.status == 410
    expect(page.locator("h1")).to_have_text("This link has expired")
    tampered = page.goto(link[:-3] + ("xyz" if not link.endswith("xyz") else "abc"))
    assert tampered.status == 404
    expect(page.locator("h1")).to_have_text("This link is not valid")
    assert violations(page) == []
    page.context.close()

    assert _python(live, AUDIT).split(",") == [
        "trust.document.uploaded", "trust.document.nda_accepted", "trust.document.approved",
        "trust.document.downloaded", "trust.document.link_refused"]
