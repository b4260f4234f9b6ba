"""A Bastion installation of the tests' own, driven as an operator would: ``bastion`` commands in
subprocesses over a fresh data dir (SQLite), plus a few steps run with the platform's own code
(``python -m tests.backups.installation STEP``) to write data, sign checkpoints or delete an
organisation between backups. Works the same whatever database the rest of the suite uses."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.live_server import ROOT


@dataclass
class Installation:
    data_dir: Path
    env: dict

    def bastion(self, *args: str, timeout: int = 180, **extra_env) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bastion.cli", *args], cwd=ROOT, env={**self.env, **extra_env},
                              capture_output=True, text=True, timeout=timeout)

    def step(self, *args: str, **extra_env) -> dict:
        done = subprocess.run([sys.executable, "-m", "tests.backups.installation", *args], cwd=ROOT,
                              env={**self.env, **extra_env}, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])


def new(extra_env: dict | None = None) -> Installation:
    data_dir = Path(tempfile.mkdtemp(prefix="bastion-backups-"))
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "DATABASE_ADMIN_URL", "DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    # No minute job runs here to sign checkpoints (``sign`` does, when a test asks): a wide signing window
    # keeps verification from failing on events merely left unsigned while the tests run.
    env.update({"BASTION_DATA_DIR": str(data_dir), "BASTION_BACKUP_DIR": str(data_dir.parent / f"{data_dir.name}-repo"),
                "BASTION_AUDIT_CHECKPOINT_SECONDS": "3600", **(extra_env or {})})
    installation = Installation(data_dir, env)
    migrated = installation.bastion("migrate", "--quiet")
    assert migrated.returncode == 0, migrated.stderr
    installation.step("seed")
    return installation


# --- steps, run in the installation's own process -------------------------------------------------------------

def _seed() -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bastion import demo
    from bastion.records.evidence import store_evidence
    from bastion.records.models import EmissionRecord
    from bastion.tenancy import context
    from bastion.tenancy.models import Organisation, Project

    demo.create("backup tests password 42")
    for organisation in Organisation.objects.all():
        with context.tenant_context(organisation.id):
            project = Project.objects.first()
            store_evidence(project, SimpleUploadedFile("invoice.pdf", f"%PDF-1.4 {organisation.slug}".encode(),
                                                       "application/pdf"),
                           emission_record=EmissionRecord.objects.filter(project=project).first())
    return _sign()


def _sign() -> dict:
    """Sign and anchor a checkpoint for every chain now (the minute job would, a minute later)."""
    from django.utils import timezone

    from bastion.audit.checkpoints import anchor_pending, checkpoint_due

    signed = checkpoint_due(clock=lambda: timezone.now() + datetime.timedelta(days=1))
    anchor_pending()
    return {"signed": len(signed)}


def _write(label: str) -> dict:
    """One audited change of acme (a new workspace named ``label``): an event beyond older backups."""
    from django.utils import timezone

    from bastion.tenancy import actions, context
    from bastion.tenancy.models import Organisation

    organisation = Organisation.objects.get(slug="acme")
    with context.tenant_context(organisation.id):
        actions.create_workspace(organisation, name=label)
    return {"at": timezone.now().isoformat()}


def _delete(slug: str) -> dict:
    from django.db import transaction

    from bastion.tenancy import actions
    from bastion.tenancy.models import Organisation

    with transaction.atomic():
        organisation = Organisation.objects.get(slug=slug)
        organisation_id = str(organisation.id)
        actions.delete_organisation(organisation)
    return {"id": organisation_id}


def _read_restored(directory: str, slug_id: str) -> dict:
    """Open the encrypted fields and evidence files of one organisation in a restored copy."""
    from django.core.files.storage import FileSystemStorage

    from bastion.backups import restored_database
    from bastion.crypto import artifacts
    from bastion.crypto.envelope import DecryptionFailed
    from bastion.crypto.models import Artifact
    from bastion.records.models import Supplier
    from bastion.tenancy import context

    opened, refused = 0, 0
    with restored_database.sqlite(Path(directory) / "bastion.sqlite3"), context.platform_scope():
        for supplier in Supplier._base_manager.filter(organisation_id=slug_id):
            try:
                assert supplier.contact_email
                opened += 1
            except DecryptionFailed:
                refused += 1
        storage = FileSystemStorage(location=str(Path(directory) / "objects"))
        for artifact in Artifact.objects.filter(organisation_id=slug_id):
            try:
                artifacts.read(artifact, storage).close()
                opened += 1
            except artifacts.ArtifactUnreadable:
                refused += 1
    return {"opened": opened, "refused": refused}


def _ids() -> dict:
    from bastion.tenancy.organisations import slugs_by_id

    return {slug: organisation_id for organisation_id, slug in slugs_by_id().items()}


def _status() -> dict:
    from bastion.backups import status

    return status.latest().as_dict()


def _fill(megabytes: str) -> dict:
    """Bulk the database up (a table of random bytes) so that a backup takes a while."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bulk_filler (id INTEGER PRIMARY KEY, payload BLOB)")
        for _ in range(int(megabytes) * 16):
            cursor.execute("INSERT INTO bulk_filler (payload) VALUES (randomblob(65536))")
    return {"megabytes": int(megabytes)}


def _job(name: str) -> dict:
    """A periodic job as the worker runs it: Huey executes the task (its lock, its signals, its result)."""
    from huey.contrib.djhuey import HUEY

    from bastion.operations import tasks

    return {"result": HUEY.execute(getattr(tasks, name).s())}


def _api_key(email: str, scopes: str) -> dict:
    """An API key of ``email`` in their organisation, and the id of a project there (for record URLs)."""
    from bastion.tenancy import api_keys, context
    from bastion.tenancy.models import Membership, Organisation, Project

    with context.platform_scope():
        organisation = Organisation.objects.get(slug=email.split("@")[1].split(".")[0])
    with context.tenant_context(organisation.id):
        grants = list(Membership.objects.filter(user__email=email))
        key, token = api_keys.create(organisation, name=f"replica reads {email}", scopes=scopes.split(","),
                                     expires_in_days=1, creator=grants[0].user, creator_grants=grants)
        project = Project.objects.order_by("created_at").first()
    return {"token": token, "project": str(project.id), "organisation": str(organisation.id)}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bastion.settings")
    import django

    django.setup()
    from bastion.audit.context import SYSTEM, acting_as

    steps = {"seed": _seed, "sign": _sign, "write": _write, "delete": _delete, "read-restored": _read_restored,
             "status": _status, "ids": _ids, "fill": _fill, "job": _job, "api-key": _api_key}
    with acting_as(SYSTEM):
        print(json.dumps(steps[argv[0]](*argv[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
