"""Evidence bytes leave object storage when their row does, however the row was deleted
(directly, or by cascade from its record, project, workspace or organisation): the row's
artifact is deleted with it, and the artifact's object once the deleting transaction commits."""

from __future__ import annotations

from bastion.crypto.models import Artifact


def delete_evidence_artifact(sender, instance, **kwargs) -> None:
    Artifact.objects.filter(id=instance.artifact_id).delete()
