"""Documents under NDA, the service: a document uploaded by security staff is released to a named
person who accepted the NDA, by a link that downloads it until its lifetime has passed (an injected
clock), never after; an altered, unknown or re-signed link opens nothing; staff approval and
denial; every step in the platform audit chain; the file and the person sealed at rest."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from bastion.audit.models import AuditEvent
from bastion.db import rls
from bastion.trust import documents
from bastion.trust.models import DocumentRequest, NdaDocument

PDF = b"%PDF-1.4\n% SOC 2 Type II report of Bastion, confidential 7c1e\n%%EOF\n"
START = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
BASE = "https://bastion.example"


class Clock:
    def __init__(self, now: datetime.datetime = START):
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Emails leave once the transaction commits: inside a test's transaction, run those callbacks."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def security(db, django_user_model):
    return django_user_model.objects.create_user(email="sec@staff.example", staff_role="security", email_verified=True)


def pdf(name="soc2-type2.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def upload(security, clock, *, approval=NdaDocument.AUTOMATIC, seconds=600):
    return documents.upload(pdf(), title="SOC 2 Type II report 2026", kind="soc2_report", approval=approval,
                            access_seconds=seconds, by=security, clock=clock)


def ask(document, clock, email="dana@customer.example", **overrides):
    form = {"name": "Dana Scully", "email": email, "company": "Customer Ltd", "accepted_nda": True}
    form.update(overrides)
    return documents.request_access(document, base_url=BASE, clock=clock, **form)


def link_in(message) -> str:
    return re.search(r"/trust/documents/link/(\S+)", message.body).group(1)


def events(resource_id=None) -> list[tuple[str, dict]]:
    with rls.setting("bastion.scope", "platform"):
        found = AuditEvent.objects.filter(action__startswith="trust.document.").order_by("seq")
        if resource_id is not None:
            found = found.filter(resource_id=str(resource_id))
        return list(found.values_list("action", "changes"))


def test_an_automatic_document_downloads_by_its_link_until_it_expires(security, clock, mailoutbox, commits):
    document = upload(security, clock, seconds=600)
    with commits():
        made = ask(document, clock)
    made.refresh_from_db()
    assert made.state == DocumentRequest.APPROVED and made.expires_at == START + datetime.timedelta(seconds=600)
    [message] = mailoutbox
    assert message.to == ["dana@customer.example"] and "SOC 2 Type II report 2026" in message.subject
    token = link_in(message)

    clock.advance(seconds=599)
    download = documents.open_link(token, clock=clock)
    assert download.content.read() == PDF and download.document == document
    clock.advance(seconds=1)
    with pytest.raises(documents.LinkExpired):
        documents.open_link(token, clock=clock)
    clock.advance(days=30)
    with pytest.raises(documents.LinkExpired):
        documents.open_link(token, clock=clock)
    made.refresh_from_db()
    assert made.downloads == 1

    assert [action for action, _ in events()] == [
        "trust.document.uploaded", "trust.document.nda_accepted", "trust.document.approved",
        "trust.document.downloaded", "trust.document.link_refused", "trust.document.link_refused"]
    uploaded, accepted, approved, downloaded = (changes for _, changes in events()[:4])
    assert uploaded["sha256"] == document.sha256 and uploaded["access_seconds"] == 600
    assert accepted["nda_sha256"] == documents.NDA_SHA256 and approved["automatic"] is True
    assert downloaded["sha256"] == document.sha256
    # The person is named by a pseudonym of the platform chain, the same one at each step.
    pseudonyms = {c["email"] for _, c in events(made.id)}
    assert len(pseudonyms) == 1 and pseudonyms.pop().startswith("psn_")


def test_the_file_the_person_and_the_link_are_not_stored_in_clear(security, clock, mailoutbox, commits, object_storage):
    document = upload(security, clock)
    with commits():
        made = ask(document, clock)
    token = link_in(mailoutbox[0])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM trust_documentrequest")
        stored = repr(cursor.fetchall())
    assert "dana@customer.example" not in stored and "Dana Scully" not in stored and "Customer Ltd" not in stored
    assert token not in stored and signing.loads(token, salt=documents.LINK_SALT)["n"] not in stored
    files = [p for p in object_storage.rglob("*") if p.is_file()]
    assert len(files) == 1 and b"SOC 2 Type II" not in files[0].read_bytes()
    assert documents.requester(made) == documents.Requester("Dana Scully", "dana@customer.example", "Customer Ltd")
    assert "dana@customer.example" not in repr(events())


def test_an_altered_unknown_or_re_signed_link_opens_nothing(security, clock, mailoutbox, commits):
    document = upload(security, clock)
    with commits():
        ask(document, clock, email="dana@customer.example")
        other = ask(document, clock, email="fox@elsewhere.example", name="Fox Mulder")
    dana = link_in(mailoutbox[0])
    refused_before = len(events())
    for token in ("", "nonsense", dana[:-1] + ("A" if dana[-1] != "A" else "B"), dana + "x",
                  signing.dumps({"r": str(other.id)}, salt=documents.LINK_SALT)):
        with pytest.raises(documents.LinkInvalid):
            documents.open_link(token, clock=clock)
    payload = signing.loads(dana, salt=documents.LINK_SALT)
    # Dana's link re-signed for Fox's request: without the deployment's key the signature fails,
    # and even with it the nonce is not the one Fox's link was released with.
    with pytest.raises(documents.LinkInvalid):
        documents.open_link(signing.dumps({**payload, "r": str(other.id)}, salt=documents.LINK_SALT, key="guess"),
                            clock=clock)
    with pytest.raises(documents.LinkInvalid):
        documents.open_link(signing.dumps({**payload, "r": str(other.id)}, salt=documents.LINK_SALT), clock=clock)
    with pytest.raises(documents.LinkInvalid):  # another salt: a token signed for something else
        documents.open_link(signing.dumps(payload), clock=clock)
    assert len(events()) == refused_before  # a link that was never released leaves no event to flood the chain
    assert documents.open_link(dana, clock=clock).content.read() == PDF


def test_staff_approval_releases_the_link_and_denial_does_not(security, clock, mailoutbox, commits, django_user_model):
    reviewer = django_user_model.objects.create_user(email="reviewer@staff.example", staff_role="security",
                                                     email_verified=True)
    document = upload(security, clock, approval=NdaDocument.STAFF, seconds=3600)
    with commits():
        waiting = ask(document, clock)
        denied = ask(document, clock, email="eve@rival.example", name="Eve")
    assert {to for m in mailoutbox for to in m.to} == {"sec@staff.example", "reviewer@staff.example"}  # staff told
    assert "dana@customer.example" not in repr([m.body for m in mailoutbox])
    assert {r.id for r, _ in documents.pending()} == {waiting.id, denied.id}
    mailoutbox.clear()
    clock.advance(hours=5)
    with commits():
        documents.approve(waiting.id, by=reviewer, base_url=BASE, clock=clock)
        documents.deny(denied.id, by=reviewer, clock=clock)
    waiting.refresh_from_db()
    assert waiting.expires_at == clock.now + datetime.timedelta(hours=1) and waiting.decided_by == reviewer
    [link_mail] = [m for m in mailoutbox if m.to == ["dana@customer.example"]]
    [denial] = [m for m in mailoutbox if m.to == ["eve@rival.example"]]
    assert "/trust/documents/link/" not in denial.body
    assert documents.open_link(link_in(link_mail), clock=clock).content.read() == PDF
    with pytest.raises(documents.DecisionRefused):
        documents.approve(denied.id, by=reviewer, base_url=BASE, clock=clock)
    with pytest.raises(documents.DecisionRefused):
        documents.deny(waiting.id, by=reviewer, clock=clock)
    assert documents.pending() == []
    assert [a for a, _ in events(denied.id)] == ["trust.document.nda_accepted", "trust.document.denied"]
    assert [a for a, c in events(waiting.id)][-2:] == ["trust.document.approved", "trust.document.downloaded"]
    assert events(waiting.id)[-2][1]["automatic"] is False


def test_a_withdrawn_document_is_not_offered_and_its_links_stop(security, clock, mailoutbox, commits):
    document = upload(security, clock)
    with commits():
        ask(document, clock)
    token = link_in(mailoutbox[0])
    document = documents.withdraw(document, by=security, clock=clock)
    assert documents.offered() == []
    with pytest.raises(documents.LinkExpired):
        documents.open_link(token, clock=clock)
    with pytest.raises(ValidationError) as refused:
        ask(document, clock)
    assert refused.value.error_dict["document"][0].code == "withdrawn"


def test_bad_input_is_refused_field_by_field(security, clock):
    with pytest.raises(ValidationError) as refused:
        documents.upload(pdf(), title="", kind="novel", approval="maybe", access_seconds=5, by=security, clock=clock)
    assert set(refused.value.error_dict) == {"title", "kind", "approval", "access_seconds"}
    with pytest.raises(ValidationError) as refused:  # the title goes into email subjects: one line
        documents.upload(pdf(), title="SOC 2\nBcc: everyone@example.com", kind="soc2_report", approval="automatic",
                         access_seconds=60, by=security, clock=clock)
    assert set(refused.value.error_dict) == {"title"}
    with pytest.raises(ValidationError) as refused:
        documents.upload(pdf(content=b"MZ\x90\x00 not a pdf"), title="Pentest", kind="pentest_summary",
                         approval="automatic", access_seconds=60, by=security, clock=clock)
    assert refused.value.error_dict["file"][0].code == "type_mismatch"
    document = upload(security, clock)
    with pytest.raises(ValidationError) as refused:
        ask(document, clock, name="", email="not-an-address", company="x" * 101, accepted_nda=False)
    assert set(refused.value.error_dict) == {"name", "email", "company", "accept_nda"}
    assert DocumentRequest.objects.count() == 0
