"""Evidence files: checked (size, declared type against the file's own signature), then stored.

The accepted types are few and their signatures fixed, so a small table of magic numbers is
enough; a libmagic dependency would add a C library for six checks.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse

from bastion.audit import chain as audit
from bastion.crypto import artifacts
from bastion.records.audit_actions import EVIDENCE_DELETED, EVIDENCE_DOWNLOADED, EVIDENCE_UPLOADED
from bastion.records.models import EmissionRecord, EnergyRecord, EvidenceFile
from bastion.tenancy.models import Project

ALLOWED_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "text/csv": "text",
    "text/plain": "text",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "zip",
}
_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "zip": (b"PK\x03\x04",),
}


def _looks_like(kind: str, head: bytes) -> bool:
    if kind == "text":
        if b"\x00" in head:
            return False
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character may be cut at the end of the sample.
            return exc.start >= len(head) - 3
        return True
    return head.startswith(_SIGNATURES[kind])


def _error(field: str, code: str, message: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def safe_filename(name: str) -> str:
    """The name to store and to offer on download: no path, no control characters."""
    cleaned = "".join("_" if ch in '/\\' or ord(ch) < 32 or ord(ch) == 127 else ch for ch in name or "")
    return cleaned.strip(" .")[:255] or "file"


def check_upload(filename: str, declared_type: str, size: int, head: bytes) -> None:
    declared = (declared_type or "").split(";")[0].strip().lower()
    if size > settings.BASTION_EVIDENCE_MAX_BYTES:
        raise _error("file", "file_too_large", f"Files may be at most {settings.BASTION_EVIDENCE_MAX_BYTES} bytes.")
    if size == 0:
        raise _error("file", "empty_file", "The file is empty.")
    if declared not in ALLOWED_TYPES:
        raise _error("file", "unsupported_type", f"Accepted types: {', '.join(sorted(ALLOWED_TYPES))}.")
    if not _looks_like(ALLOWED_TYPES[declared], head):
        raise _error("file", "type_mismatch", f"The file's content is not {declared}.")
    if not filename or len(filename) > 255:
        raise _error("file", "invalid_filename", "The file needs a name of at most 255 characters.")


def store_evidence(
    project: Project,
    upload,
    *,
    user=None,
    emission_record: EmissionRecord | None = None,
    energy_record: EnergyRecord | None = None,
) -> EvidenceFile:
    """Store an uploaded file (a Django ``UploadedFile``) as evidence of a project or record."""
    if emission_record is not None and energy_record is not None:
        raise _error("record", "one_record", "Attach evidence to one record at a time.")
    size = upload.size
    head = upload.read(2048)
    upload.seek(0)
    check_upload(upload.name, upload.content_type, size, head)
    evidence = EvidenceFile(
        organisation_id=project.organisation_id,
        project=project,
        created_by=user,
        emission_record=emission_record,
        energy_record=energy_record,
        filename=safe_filename(upload.name),
        content_type=upload.content_type.split(";")[0].strip().lower(),
        size=size,
    )
    evidence.full_clean(exclude=["sha256", "artifact"])
    with transaction.atomic():
        evidence.artifact = artifacts.put(project.organisation_id, upload.chunks(), purpose="evidence")
        evidence.sha256 = evidence.artifact.sha256
        evidence.save(force_insert=True)
        _audit(EVIDENCE_UPLOADED, evidence)
    return evidence


def _audit(action: str, evidence: EvidenceFile) -> None:
    audit.record(action, organisation_id=evidence.organisation_id, resource_type="evidence", resource_id=evidence.id,
                 changes={"filename": evidence.filename, "size": evidence.size, "sha256": evidence.sha256,
                          "project": evidence.project_id})


def open_evidence(evidence: EvidenceFile):
    """The file, decrypted and checked, for a download; the download is audited (reading evidence
    is access to data). Raises ``ArtifactUnreadable`` if the stored file was altered or lost."""
    plaintext = artifacts.read(evidence.artifact)
    with transaction.atomic():
        _audit(EVIDENCE_DOWNLOADED, evidence)
    return plaintext


def download_response(evidence: EvidenceFile) -> FileResponse:
    """The file as a download that nothing can run: an attachment, never sniffed as another type,
    and, should a browser render it anyway, in a sandbox with no script, style or plugin."""
    response = FileResponse(open_evidence(evidence), as_attachment=True, filename=evidence.filename,
                            content_type=evidence.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def delete_evidence(evidence: EvidenceFile) -> None:
    """Delete the row; ``records.signals`` deletes its artifact and, once this commits, its bytes."""
    with transaction.atomic():
        _audit(EVIDENCE_DELETED, evidence)
        evidence.delete()
