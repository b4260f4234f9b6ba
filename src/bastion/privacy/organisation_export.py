"""An owner's export of the whole organisation (Art. 20 for a business, and the way out before a
deletion): records, suppliers, evidence files, members, roles and the audit log with its signed
checkpoints and proofs (``audit.export``, verifiable offline by ``bastion-verify``), in one zip,
stored as one encrypted ephemeral artifact (downloaded once)."""

from __future__ import annotations

import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.forms.models import model_to_dict

from bastion.audit import export as audit_export
from bastion.crypto import artifacts as stored_files
from bastion.crypto.models import Artifact
from bastion.privacy.audit_actions import ORGANISATION_EXPORTED
from bastion.records.models import EmissionRecord, EnergyRecord, EvidenceFile, Supplier
from bastion.tenancy import artifacts
from bastion.tenancy.models import Membership, Organisation, Project, Role, Workspace


def _rows(queryset, exclude=()) -> list[dict]:
    return [{k: v for k, v in model_to_dict(row).items() if k not in exclude} | {"id": row.pk} for row in queryset]


def build_zip(organisation: Organisation) -> bytes:
    """Run inside the organisation's tenant context."""
    buffer = io.BytesIO()
    dump = lambda value: json.dumps(value, cls=DjangoJSONEncoder, indent=2)  # noqa: E731
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("organisation.json", dump({"id": organisation.id, "name": organisation.name,
                                                    "slug": organisation.slug}))
        archive.writestr("workspaces.json", dump(_rows(Workspace.objects.all())))
        archive.writestr("projects.json", dump(_rows(Project.objects.all())))
        archive.writestr("emissions.json", dump(_rows(EmissionRecord.objects.all())))
        archive.writestr("energy.json", dump(_rows(EnergyRecord.objects.all())))
        archive.writestr("suppliers.json", dump(_rows(Supplier.objects.all(), exclude={"contact_email_index"})))
        archive.writestr("roles.json", dump(_rows(Role.objects.all())))
        archive.writestr("members.json", dump([
            {"email": m.user.email, "name": m.user.get_full_name(), "role": m.role_key, "scope": m.scope,
             "workspace": m.workspace_id, "project": m.project_id}
            for m in Membership.objects.select_related("user", "custom_role")]))
        evidence = []
        for item in EvidenceFile.objects.select_related("artifact"):
            with stored_files.read(item.artifact) as content:
                archive.writestr(f"evidence/{item.pk}/{item.filename}", content.read())
            evidence.append({"id": item.pk, "filename": item.filename, "sha256": item.sha256, "project": item.project_id,
                             "emission_record": item.emission_record_id, "energy_record": item.energy_record_id})
        archive.writestr("evidence.json", dump(evidence))
        archive.writestr("audit-log.jsonl", "".join(audit_export.export_lines(str(organisation.id))))
    return buffer.getvalue()


def export(organisation: Organisation) -> Artifact:
    content = build_zip(organisation)
    return artifacts.create(organisation, [content], purpose="organisation_export", action=ORGANISATION_EXPORTED)
