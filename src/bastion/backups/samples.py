"""Open a sample of what a restored copy holds encrypted: fields of every model with encrypted
columns, and evidence files. Rows of an organisation deleted since the backup are expected to stay
shut (its KEK is destroyed: crypto-shredding reaches backups) and are counted apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.core.files.storage import FileSystemStorage

from bastion.crypto import artifacts
from bastion.crypto.envelope import DecryptionFailed
from bastion.crypto.fields import EncryptedField
from bastion.crypto.models import Artifact
from bastion.tenancy.context import platform_scope

PER_MODEL = 5


@dataclass
class SampleResult:
    opened: int = 0
    shredded: int = 0  # unreadable, as they must be: their organisation was deleted (its key destroyed)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _encrypted_models():
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
        if names and any(f.name == "organisation" for f in model._meta.concrete_fields):
            yield model, names


def open_sample(live_organisations: set[str], objects: Path | None, *, per_model: int = PER_MODEL) -> SampleResult:
    """Run inside ``restored_database``. ``live_organisations``: the organisation ids that exist now."""
    result = SampleResult()

    def opened(organisation_id, what: str, action) -> None:
        try:
            action()
        except (DecryptionFailed, artifacts.ArtifactUnreadable) as exc:
            if str(organisation_id) not in live_organisations:
                result.shredded += 1
            else:
                result.failures.append(f"{what}: {exc}")
        else:
            result.opened += 1

    with platform_scope():
        for model, names in _encrypted_models():
            for row in model._base_manager.all().order_by("pk")[:per_model]:
                for name in names:
                    opened(row.organisation_id, f"{model._meta.label} {row.pk}.{name}",
                           lambda row=row, name=name: getattr(row, name))
        if objects is not None:
            storage = FileSystemStorage(location=str(objects))
            for artifact in Artifact.objects.order_by("pk")[:per_model]:
                opened(artifact.organisation_id, f"evidence file {artifact.pk}",
                       lambda artifact=artifact: artifacts.read(artifact, storage).close())
    return result
