"""Documents under NDA through the web: the security staff's page (upload, approve, deny, withdraw)
is security staff's alone — support staff, acme's and globex's admins get a 404, anonymous visitors
are sent to sign in; the public request is validated field by field (400, JSON to machines), rate
limited and its email sent over real SMTP; the link downloads the file and, once expired, answers
410 with a page saying so."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from bastion.trust import documents
from bastion.trust.models import DocumentRequest, NdaDocument
from tests.support_access.conftest import body

PDF = b"%PDF-1.4\n% Penetration test summary, confidential 3b9d\n%%EOF\n"
FORM = {"name": "Dana Scully", "email": "dana@customer.example", "company": "Customer Ltd", "accept_nda": "on"}


@pytest.fixture
def security(world, client_for, django_user_model):
    user = django_user_model.objects.create_user(email="sec@staff.example", staff_role="security", email_verified=True)
    return client_for(user)


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Emails leave once the transaction commits: inside a test's transaction, run those callbacks."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _upload(client, **overrides):
    form = {"title": "Penetration test summary 2026", "kind": "pentest_summary", "approval": "automatic",
            "lifetime": "2", "unit": "minutes",
            "file": SimpleUploadedFile("pentest.pdf", PDF, content_type="application/pdf")}
    form.update(overrides)
    return client.post("/staff/documents/", form, secure=True)


def test_only_security_staff_reach_the_documents_pages(world, security, client_for, django_user_model):
    assert _upload(security).status_code == 302
    document = NdaDocument.objects.get()
    support = client_for(django_user_model.objects.create_user(email="help@staff.example", staff_role="support",
                                                               email_verified=True))
    outsiders = [support, client_for(world.acme.users["owner"]), client_for(world.acme.users["admin"]),
                 client_for(world.globex.users["admin"])]
    made = documents.request_access(document, name="Dana", email="dana@customer.example", company="C",
                                    accepted_nda=True, base_url="https://x.example")
    routes = ["/staff/documents/", f"/staff/documents/{document.id}/withdraw/",
              f"/staff/documents/requests/{made.id}/decide/"]
    for client in outsiders:
        for route in routes:
            for method in ("get", "post"):
                response = getattr(client, method)(route, {"decision": "deny"}, secure=True)
                assert response.status_code == 404, (route, method, response.status_code)
                assert b"Penetration" not in response.content
    for route in routes:
        assert Client().get(route, secure=True).status_code in (302, 401)
        assert Client().post(route, secure=True).status_code in (302, 401, 403)
    assert security.get("/staff/documents/", secure=True).status_code == 200
    assert 'href="/staff/documents/"' in security.get("/staff/", secure=True).content.decode()
    assert NdaDocument.objects.get().withdrawn_at is None


def test_staff_upload_approve_deny_and_withdraw_from_their_page(world, security, smtp, commits):
    assert _upload(security, title="", file=SimpleUploadedFile("x.pdf", b"MZ not a pdf",
                                                                content_type="application/pdf")).status_code == 400
    assert _upload(security, lifetime="3", unit="seconds").status_code == 400  # below 10 seconds
    assert _upload(security, approval="staff").status_code == 302
    document = NdaDocument.objects.get()
    assert (document.title, document.approval, document.access_seconds) == ("Penetration test summary 2026", "staff", 120)
    page = security.get("/staff/documents/", secure=True).content.decode()
    assert "Penetration test summary 2026" in page and "No request is waiting" in page

    with commits():
        asked = Client().post(f"/trust/documents/{document.id}/request", FORM, secure=True)
        other = Client().post(f"/trust/documents/{document.id}/request", {**FORM, "email": "eve@rival.example"},
                              secure=True)
    assert asked.status_code == 201 and "security team reviews" in asked.content.decode()
    assert other.status_code == 201
    assert [m["To"] for m in smtp.messages] == ["sec@staff.example"] * 2  # staff told, no link yet
    page = security.get("/staff/documents/", secure=True).content.decode()
    assert "dana@customer.example" in page and "Customer Ltd" in page
    dana = DocumentRequest.objects.get(state="pending", accepted_at__isnull=False, id__in=[
        r.id for r, p in documents.pending() if p.email == "dana@customer.example"])
    eve = DocumentRequest.objects.exclude(id=dana.id).get()
    smtp.messages.clear()
    assert security.post(f"/staff/documents/requests/{dana.id}/decide/", {"decision": "maybe"},
                         secure=True).status_code == 400
    with commits():
        assert security.post(f"/staff/documents/requests/{dana.id}/decide/", {"decision": "approve"},
                             secure=True).status_code == 302
    assert security.post(f"/staff/documents/requests/{dana.id}/decide/", {"decision": "deny"},
                         secure=True).status_code == 409
    with commits():
        assert security.post(f"/staff/documents/requests/{eve.id}/decide/", {"decision": "deny"},
                             secure=True).status_code == 302
    assert security.post(f"/staff/documents/requests/{document.id}/decide/", {"decision": "deny"},
                         secure=True).status_code == 404
    [link_mail] = [m for m in smtp.messages if m["To"] == "dana@customer.example"]
    link = re.search(r"https?://[^/\s]+(/trust/documents/link/\S+)", body(link_mail)).group(1)
    assert Client().get(link, secure=True).status_code == 200

    assert security.post(f"/staff/documents/{document.id}/withdraw/", secure=True).status_code == 302
    gone = Client().get(link, secure=True)
    assert gone.status_code == 410 and "This link has expired" in gone.content.decode()
    assert "Penetration test summary" not in Client().get("/trust", secure=True).content.decode()
    assert Client().post(f"/trust/documents/{document.id}/request", FORM, secure=True).status_code == 404


def test_a_visitor_requests_from_trust_and_downloads_until_the_link_expires(world, security, smtp, commits):
    _upload(security)
    document = NdaDocument.objects.get()
    trust = Client().get("/trust", secure=True).content.decode()
    assert "Penetration test summary 2026" in trust and documents.NDA_TEXT.splitlines()[0] in trust
    assert f'action="/trust/documents/{document.id}/request"' in trust and 'name="accept_nda"' in trust

    with commits():
        asked = Client().post(f"/trust/documents/{document.id}/request", FORM, secure=True)
    assert asked.status_code == 201 and "has been emailed to you" in asked.content.decode()
    [mail] = smtp.messages
    assert mail["To"] == "dana@customer.example"
    link = re.search(r"https?://[^/\s]+(/trust/documents/link/\S+)", body(mail)).group(1)
    downloaded = Client().get(link, secure=True)
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content) == PDF
    assert downloaded["Content-Disposition"].startswith("attachment") and downloaded["Cache-Control"] == "no-store"
    assert "sandbox" in downloaded["Content-Security-Policy"]

    tampered = Client().get(link[:-2] + ("AA" if not link.endswith("AA") else "BB"), secure=True)
    assert tampered.status_code == 404 and "This link is not valid" in tampered.content.decode()
    DocumentRequest.objects.update(expires_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1))
    expired = Client().get(link, secure=True)
    assert expired.status_code == 410 and "This link has expired" in expired.content.decode()


def test_bad_requests_are_refused_field_by_field(world, security):
    _upload(security)
    document = NdaDocument.objects.get()
    url = f"/trust/documents/{document.id}/request"
    machine = Client().post(url, {"name": "x" * 101, "email": "nope", "company": ""}, secure=True,
                            HTTP_ACCEPT="application/json")
    assert machine.status_code == 400
    assert set(machine.json()["error"]["fields"]) == {"name", "email", "company", "accept_nda"}
    html = Client().post(url, {**FORM, "accept_nda": ""}, secure=True)
    assert html.status_code == 400 and "Accept the NDA" in html.content.decode()
    assert "Customer Ltd" in html.content.decode()  # what was typed is kept
    assert Client().get(url, secure=True).status_code == 200
    assert Client().post("/trust/documents/00000000-0000-0000-0000-000000000001/request", FORM,
                         secure=True).status_code == 404
    assert Client().get("/trust/documents/link/", secure=True).status_code == 404
    assert DocumentRequest.objects.count() == 0


def test_the_request_form_is_rate_limited(world, security, settings):
    settings.BASTION_RATE_LIMITS = {"TRUST_DOCUMENT_REQUEST_IP": "3/h"}
    _upload(security, approval="staff")
    url = f"/trust/documents/{NdaDocument.objects.get().id}/request"
    client = Client()
    assert [client.post(url, FORM, secure=True).status_code for _ in range(4)] == [201, 201, 201, 429]
    assert DocumentRequest.objects.count() == 3
