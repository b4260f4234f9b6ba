"""Export my data (Art. 15 and 20): everything Bastion holds about a person, as JSON plus CSV
files in one zip, encrypted as an ephemeral artifact of the platform (downloaded once, deleted
after ``BASTION_EPHEMERAL_ARTIFACT_DAYS`` otherwise), and an email when it is ready.

``request`` records the wish (audited); ``build`` is the job's work, reporting progress into the
``PersonalExport`` row; ``download`` hands the file over once."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from tempfile import SpooledTemporaryFile

from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.audit import personal as audit_personal
from bastion.crypto import artifacts
from bastion.crypto.models import ApiKey, Artifact
from bastion.db.platform import PLATFORM_ID
from bastion.privacy.audit_actions import (
    PERSONAL_EXPORT_BUILT,
    PERSONAL_EXPORT_DOWNLOADED,
    PERSONAL_EXPORT_EXPIRED,
    PERSONAL_EXPORT_REQUESTED,
)
from bastion.privacy.models import PersonalExport
from bastion.privacy.people import grants_by_organisation
from bastion.tenancy import context

PLATFORM = uuid.UUID(PLATFORM_ID)


class NotReady(Exception):
    """There is no export to download: not built yet, already downloaded, or expired."""


def request(user) -> PersonalExport:
    with transaction.atomic():
        export = PersonalExport.objects.create(user=user)
        audit.record(PERSONAL_EXPORT_REQUESTED, resource_type="personal_export", resource_id=export.id)
    return export


def latest(user) -> PersonalExport | None:
    return PersonalExport.objects.filter(user=user).first()


def collect(user, progress: Callable[[int], None] = lambda percent: None) -> dict[str, list[dict]]:
    """Every table's rows about ``user``, by section name."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.usersessions.models import UserSession

    data: dict[str, list[dict]] = {
        "profile": [{"id": user.pk, "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
                     "date_joined": user.date_joined, "last_login": user.last_login, "is_active": user.is_active}],
        "email_addresses": list(EmailAddress.objects.filter(user=user).values("email", "primary", "verified")),
        "sessions": list(UserSession.objects.filter(user=user).values("created_at", "last_seen_at", "ip", "user_agent")),
        "authenticators": list(Authenticator.objects.filter(user=user).values("type", "created_at", "last_used_at")),
        # Bastion asks for no consent: it processes account data to provide the service (Art. 6(1)(b)).
        "consents": [],
        "memberships": [], "api_keys": [], "audit_events": [],
    }
    progress(30)
    with context.platform_scope():
        data["audit_events"] += [{"organisation": "platform", **row} for row in audit_personal.acted_by(PLATFORM, user.pk)]
    for organisation, grants in grants_by_organisation(user.pk).items():
        data["memberships"] += [{"organisation": organisation.slug, "role": g.role_key, "scope": g.scope,
                                 "workspace": g.workspace_id, "project": g.project_id} for g in grants]
        with context.tenant_context(organisation.id):
            data["api_keys"] += [{"organisation": organisation.slug, **row} for row in ApiKey.objects.filter(
                organisation_id=organisation.id, created_by_id=user.pk).values(
                "name", "public_id", "scopes", "created_at", "expires_at", "last_used_at", "last_used_ip", "revoked_at")]
            data["audit_events"] += [{"organisation": organisation.slug, **row}
                                     for row in audit_personal.acted_by(str(organisation.id), user.pk)]
    progress(60)
    return data


def as_zip(data: dict[str, list[dict]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bastion-personal-data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2))
        for section, rows in data.items():
            text = io.StringIO()
            columns = sorted({key for row in rows for key in row}) or ["(none)"]
            writer = csv.DictWriter(text, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: json.dumps(v, cls=DjangoJSONEncoder) if isinstance(v, (dict, list)) else v
                                 for k, v in row.items()})
            archive.writestr(f"{section}.csv", text.getvalue())
    return buffer.getvalue()


def build(export_id) -> PersonalExport:
    """The job: collect, zip, encrypt and store; then email the person. Progress is saved as it goes."""
    export = PersonalExport.objects.select_related("user").get(id=export_id)
    if export.state not in ("queued", "failed"):
        return export  # a job delivered twice builds once

    def progress(percent: int) -> None:
        PersonalExport.objects.filter(id=export.id).update(progress=percent, state="building")

    progress(5)
    content = as_zip(collect(export.user, progress))
    with context.tenant_context(PLATFORM):
        artifact = artifacts.put(PLATFORM, [content], purpose="export", ephemeral=True)
        export.artifact_id, export.state, export.progress, export.ready_at = artifact.id, "ready", 100, timezone.now()
        export.save(update_fields=["artifact_id", "state", "progress", "ready_at"])
        audit.record(PERSONAL_EXPORT_BUILT, resource_type="personal_export", resource_id=export.id,
                     changes={"size": artifact.size, "sha256": artifact.sha256, "expires_at": artifact.expires_at})
        email = export.user.email
        transaction.on_commit(lambda: send_mail(
            "[Bastion] Your data export is ready",
            "The copy of your data you asked for is ready. Download it from your account's privacy page "
            "(/accounts/privacy/): it can be downloaded once, and is deleted unused after 14 days.\n", None, [email]))
    return export


def download(user) -> SpooledTemporaryFile:
    """The zip of the person's latest ready export; deleted as it is handed over (once)."""
    export = PersonalExport.objects.filter(user=user, state="ready").first()
    if export is None or export.artifact_id is None:
        raise NotReady()
    with context.tenant_context(PLATFORM):
        artifact = Artifact.objects.filter(id=export.artifact_id, organisation_id=PLATFORM).first()
        if artifact is None:  # expired and purged by the hourly job
            export.state = "expired"
            export.save(update_fields=["state"])
            raise NotReady()
        content = artifacts.read(artifact)
        audit.record(PERSONAL_EXPORT_DOWNLOADED, resource_type="personal_export", resource_id=export.id,
                     changes={"sha256": artifact.sha256})
        artifact.delete()
        export.state = "downloaded"
        export.save(update_fields=["state"])
    return content


def delete_artifacts_of(user) -> int:
    ids = [i for i in PersonalExport.objects.filter(user=user).values_list("artifact_id", flat=True) if i]
    with context.tenant_context(PLATFORM):
        count, _ = Artifact.objects.filter(organisation_id=PLATFORM, id__in=ids).delete()
    return count


def purge_expired(now=None) -> int:
    """Delete personal exports nobody downloaded in time (``tenancy.artifacts.purge_expired`` covers
    the organisations' artifacts; these are the platform's)."""
    purged = 0
    with context.tenant_context(PLATFORM):
        for artifact in artifacts.expired(now).filter(organisation_id=PLATFORM):
            export = PersonalExport.objects.filter(artifact_id=artifact.id).first()
            audit.record(PERSONAL_EXPORT_EXPIRED, resource_type="personal_export",
                         resource_id=export.id if export else artifact.id, changes={"sha256": artifact.sha256})
            artifact_id = artifact.id
            artifact.delete()  # (clears artifact.id)
            PersonalExport.objects.filter(artifact_id=artifact_id).update(state="expired")
            purged += 1
    return purged
