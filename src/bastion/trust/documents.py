"""Documents released under NDA (the SafeBase/Vanta model): security staff upload a document (a SOC 2
report, a penetration-test summary); a named person asks for it on ``/trust``, accepts the
click-through NDA, and — at once or once security staff approve — is emailed a link that downloads
it until the document's link lifetime has passed.

The file is an encrypted artifact of the platform (``crypto.artifacts``, the platform's data key),
the person's name, email and company are sealed under the same key, and each step (upload, NDA
accepted, approval, denial, download, a refused late use) is an event of the platform audit chain
written in the step's transaction.

A link is ``signing.dumps({"r": request id, "n": nonce})`` under the deployment's secret key, and the
request stores only the SHA-256 of the nonce: altering a link breaks its signature, and re-signing
one for another request (even with the secret key) fails on that request's digest.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.crypto import artifacts, platform_secrets
from bastion.crypto.models import Artifact
from bastion.db.platform import PLATFORM_ID
from bastion.records.evidence import check_upload, safe_filename
from bastion.support_access.staff import staff_emails
from bastion.tenancy import context
from bastion.trust.audit_actions import (
    DOCUMENT_APPROVED,
    DOCUMENT_DENIED,
    DOCUMENT_DOWNLOADED,
    DOCUMENT_LINK_REFUSED,
    DOCUMENT_NDA_ACCEPTED,
    DOCUMENT_UPLOADED,
    DOCUMENT_WITHDRAWN,
)
from bastion.trust.models import DocumentRequest, NdaDocument

Clock = Callable[[], datetime.datetime]
PLATFORM = uuid.UUID(PLATFORM_ID)
LINK_SALT = "bastion.trust.document-link"
MIN_SECONDS, MAX_SECONDS = 10, 90 * 86400
NDA_TEXT = """Mutual non-disclosure agreement (click-through)

1. The document you receive ("the Document") is confidential information of the operator of this
   Bastion deployment. You may use it only to assess the security of the service for your company.
2. You will not publish, share or forward the Document, in whole or in part, except to colleagues and
   advisers of your company who need it for that assessment and are bound by confidentiality duties
   at least as strict as these.
3. The link you receive is for you alone, works for a limited time, and every download is recorded.
4. These obligations last three years from your acceptance, and survive the link's expiry.
5. You confirm that the name, email address and company you gave are yours and correct."""
NDA_SHA256 = hashlib.sha256(NDA_TEXT.encode()).hexdigest()


class LinkInvalid(Exception):
    """The link matches no released request: unknown, altered, re-signed, not (or not yet) approved."""


class LinkExpired(Exception):
    """The link was released but no longer downloads: its lifetime passed or the document was withdrawn."""


class DecisionRefused(Exception):
    """The request was already decided (approved or denied)."""


@dataclass(frozen=True)
class Requester:
    name: str
    email: str
    company: str


@dataclass(frozen=True)
class Download:
    document: NdaDocument
    content: SpooledTemporaryFile


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def upload(upload_file, *, title: str, kind: str, approval: str, access_seconds: int, by,
           clock: Clock = timezone.now) -> NdaDocument:
    """Check and store a document (a Django ``UploadedFile``); ``access_seconds``: how long each
    released link downloads it."""
    title = (title or "").strip()
    errors: dict[str, ValidationError] = {}
    if not title or len(title) > 200 or any(ord(ch) < 32 for ch in title):
        errors["title"] = ValidationError("Give the document a title: one line, 200 characters at most.",
                                          code="invalid")
    if kind not in dict(NdaDocument.KINDS):
        errors["kind"] = ValidationError("Choose one of the kinds listed.", code="invalid")
    if approval not in dict(NdaDocument.APPROVALS):
        errors["approval"] = ValidationError("Approval is automatic or by staff.", code="invalid")
    if not isinstance(access_seconds, int) or not MIN_SECONDS <= access_seconds <= MAX_SECONDS:
        errors["access_seconds"] = ValidationError(
            f"A link lives between {MIN_SECONDS} seconds and {MAX_SECONDS // 86400} days.", code="invalid")
    if errors:
        raise ValidationError(errors)
    head = upload_file.read(2048)
    upload_file.seek(0)
    check_upload(upload_file.name, upload_file.content_type, upload_file.size, head)
    with context.tenant_context(PLATFORM), transaction.atomic():
        artifact = artifacts.put(PLATFORM, upload_file.chunks(), purpose="evidence")
        document = NdaDocument.objects.create(
            title=title, kind=kind, approval=approval, access_seconds=access_seconds,
            filename=safe_filename(upload_file.name), content_type=upload_file.content_type.split(";")[0].strip().lower(),
            size=artifact.size, sha256=artifact.sha256, artifact_id=artifact.id, uploaded_by=by, uploaded_at=clock())
        audit.record(DOCUMENT_UPLOADED, resource_type="nda_document", resource_id=document.id,
                     changes={"title": title, "kind": kind, "approval": approval, "access_seconds": access_seconds,
                              "filename": document.filename, "size": document.size, "sha256": document.sha256})
    return document


def withdraw(document: NdaDocument, *, by, clock: Clock = timezone.now) -> NdaDocument:
    with transaction.atomic():
        document = NdaDocument.objects.select_for_update().get(id=document.id)
        if document.withdrawn_at is None:
            document.withdrawn_at = clock()
            document.save(update_fields=["withdrawn_at"])
            audit.record(DOCUMENT_WITHDRAWN, resource_type="nda_document", resource_id=document.id,
                         changes={"title": document.title})
    return document


def offered() -> list[NdaDocument]:
    """The documents listed on ``/trust``."""
    return list(NdaDocument.objects.filter(withdrawn_at__isnull=True))


def _seal(request: DocumentRequest, requester: Requester) -> str:
    return platform_secrets.seal(json.dumps(requester.__dict__), purpose=f"trust_document_request:{request.id}")


def requester(request: DocumentRequest) -> Requester:
    return Requester(**json.loads(platform_secrets.open_sealed(request.sealed_requester,
                                                               purpose=f"trust_document_request:{request.id}")))


def _who(person: Requester) -> dict[str, str]:
    return {"name": person.name, "email": person.email, "company": person.company}


def request_access(document: NdaDocument, *, name: str, email: str, company: str, accepted_nda: bool,
                   base_url: str, clock: Clock = timezone.now) -> DocumentRequest:
    """A named person accepts the NDA and asks for ``document``: approved at once when its approval
    is automatic (the link is emailed), else waiting for security staff (who are told)."""
    errors: dict[str, ValidationError] = {}
    name, email, company = (name or "").strip(), (email or "").strip(), (company or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ValidationError("Your name (100 characters at most).", code="invalid")
    if not company or len(company) > 100:
        errors["company"] = ValidationError("Your company (100 characters at most).", code="invalid")
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        errors["email"] = ValidationError("An email address the link can be sent to.", code="invalid")
    if not accepted_nda:
        errors["accept_nda"] = ValidationError("Accept the NDA to ask for the document.", code="required")
    if document.withdrawn_at is not None:
        errors["document"] = ValidationError("This document is no longer offered.", code="withdrawn")
    if errors:
        raise ValidationError(errors)
    person, now = Requester(name, email, company), clock()
    with transaction.atomic():
        made = DocumentRequest(document=document, nda_sha256=NDA_SHA256, accepted_at=now)
        made.sealed_requester = _seal(made, person)
        made.save(force_insert=True)
        audit.record(DOCUMENT_NDA_ACCEPTED, resource_type="nda_document_request", resource_id=made.id,
                     changes={"document": str(document.id), "title": document.title, "nda_sha256": NDA_SHA256,
                              **_who(person)})
        if document.approval == NdaDocument.AUTOMATIC:
            _release(made, person, by=None, base_url=base_url, now=now)
        else:
            recipients = staff_emails("security")
            title = document.title
            transaction.on_commit(lambda: recipients and send_mail(
                "[Bastion] A request for an NDA document is waiting",
                f"{company} asked for \"{title}\" and accepted the NDA. Approve or deny it in the staff console: "
                f"{base_url.rstrip('/')}/staff/documents/\n", None, recipients))
    return made


def pending() -> list[tuple[DocumentRequest, Requester]]:
    return [(r, requester(r)) for r in DocumentRequest.objects.filter(state=DocumentRequest.PENDING)
            .select_related("document")[:200]]


def approve(request_id: uuid.UUID | str, *, by, base_url: str, clock: Clock = timezone.now) -> DocumentRequest:
    with transaction.atomic():
        found = _undecided(request_id)
        _release(found, requester(found), by=by, base_url=base_url, now=clock())
    return found


def deny(request_id: uuid.UUID | str, *, by, clock: Clock = timezone.now) -> DocumentRequest:
    with transaction.atomic():
        found = _undecided(request_id)
        person = requester(found)
        found.state, found.decided_by, found.decided_at = DocumentRequest.DENIED, by, clock()
        found.save(update_fields=["state", "decided_by", "decided_at"])
        audit.record(DOCUMENT_DENIED, resource_type="nda_document_request", resource_id=found.id,
                     changes={"document": str(found.document_id), **_who(person)})
        title = found.document.title
        transaction.on_commit(lambda: send_mail(
            f"[Bastion] Your request for {title}",
            f"Your request for \"{title}\" was not approved. Reply to this email if you think it should be.\n",
            None, [person.email]))
    return found


def _undecided(request_id: uuid.UUID | str) -> DocumentRequest:
    found = DocumentRequest.objects.select_for_update().select_related("document").filter(id=request_id).first()
    if found is None:
        raise LinkInvalid()
    if found.state != DocumentRequest.PENDING:
        raise DecisionRefused(f"this request was already {found.state}")
    return found


def _release(found: DocumentRequest, person: Requester, *, by, base_url: str, now: datetime.datetime) -> None:
    nonce = secrets.token_urlsafe(32)
    token = signing.dumps({"r": str(found.id), "n": nonce}, salt=LINK_SALT)
    found.state, found.decided_by, found.decided_at = DocumentRequest.APPROVED, by, now
    found.link_digest = _digest(nonce)
    found.expires_at = now + datetime.timedelta(seconds=found.document.access_seconds)
    found.save(update_fields=["state", "decided_by", "decided_at", "link_digest", "expires_at"])
    audit.record(DOCUMENT_APPROVED, resource_type="nda_document_request", resource_id=found.id,
                 changes={"document": str(found.document_id), "automatic": by is None,
                          "expires_at": found.expires_at, **_who(person)})
    link, title, expires = link_url(base_url, token), found.document.title, found.expires_at
    transaction.on_commit(lambda: send_mail(
        f"[Bastion] Your link to {title}",
        f"Hello {person.name},\n\nyou accepted the NDA for \"{title}\". Download it here, until "
        f"{expires:%Y-%m-%d %H:%M:%S} UTC:\n\n{link}\n\nThe link is for you alone; every download is recorded.\n",
        None, [person.email]))


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/trust/documents/link/{token}"


def _released(token: str) -> DocumentRequest:
    try:
        payload = signing.loads(token or "", salt=LINK_SALT)
        request_id, nonce = uuid.UUID(str(payload["r"])), str(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid() from None
    found = DocumentRequest.objects.select_related("document").filter(id=request_id).first()
    if (found is None or found.state != DocumentRequest.APPROVED
            or not hmac.compare_digest(_digest(nonce), found.link_digest)):
        raise LinkInvalid()
    return found


def open_link(token: str, *, clock: Clock = timezone.now) -> Download:
    """The document, decrypted and checked, for the person the link was released to; the download
    is audited. ``LinkInvalid`` for a link that was never released, ``LinkExpired`` (audited) for one
    past its lifetime or whose document was withdrawn."""
    found = _released(token)
    document, now = found.document, clock()
    if document.withdrawn_at is not None or found.expires_at is None or now >= found.expires_at:
        with transaction.atomic():
            audit.record(DOCUMENT_LINK_REFUSED, resource_type="nda_document_request", resource_id=found.id,
                         changes={"document": str(document.id), "expired_at": found.expires_at,
                                  "withdrawn": document.withdrawn_at is not None, "email": requester(found).email})
        raise LinkExpired()
    with context.tenant_context(PLATFORM):
        artifact = Artifact.objects.get(id=document.artifact_id, organisation_id=PLATFORM)
        content = artifacts.read(artifact)
    with transaction.atomic():
        DocumentRequest.objects.filter(id=found.id).update(downloads=F("downloads") + 1)
        audit.record(DOCUMENT_DOWNLOADED, resource_type="nda_document_request", resource_id=found.id,
                     changes={"document": str(document.id), "title": document.title, "sha256": document.sha256,
                              "email": requester(found).email})
    return Download(document, content)
