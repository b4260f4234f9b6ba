"""No production data in another environment (seeds 002 and 004): a backup records the environment
it was taken in, and one taken in production is restored into staging or development only when it
is an anonymised copy (``bastion anonymise``: personal and confidential fields replaced by fakes,
no keys, no audit log). The mark is the manifest's ``anonymised`` entry, bound to the copy's content
by the SHA-256 of its database, checked again after decryption: a manifest edited to claim it for a
real backup does not match that backup's database."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.db import transaction

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import audit_actions
from bastion.db.platform import PLATFORM_ID

PRODUCTION = "production"
# pgBackRest annotation naming the environment a PostgreSQL backup was taken in.
ANNOTATION = "bastion-environment"


class NotAnonymised(Exception):
    """A production backup that is not (or no longer matches) an anonymised copy, outside production."""


def source_of(manifest: dict) -> str:
    """Where the backup was taken; a manifest older than the field counts as production (the safe side)."""
    return manifest.get("environment") or PRODUCTION


def is_anonymised(manifest: dict) -> bool:
    mark = manifest.get("anonymised")
    return isinstance(mark, dict) and isinstance(mark.get("database_sha256"), str)


def database_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for piece in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(piece)
    return digest.hexdigest()


def _refuse(manifest: dict, reason: str) -> NotAnonymised:
    with transaction.atomic():
        enter_chain(PLATFORM_ID)
        audit_chain.record(
            audit_actions.RESTORE_REFUSED,
            resource_type="backup",
            resource_id=str(manifest.get("id")),
            changes={
                "source_environment": source_of(manifest),
                "environment": settings.BASTION_ENVIRONMENT,
                "reason": reason,
            },
        )
    return NotAnonymised(reason)


def check_before_unpack(manifest: dict) -> None:
    """Refuse a production backup here unless it claims to be anonymised (checked after decryption)."""
    here = settings.BASTION_ENVIRONMENT
    if here == PRODUCTION or source_of(manifest) != PRODUCTION or is_anonymised(manifest):
        return
    raise _refuse(
        manifest,
        f"backup {manifest.get('id')} holds production data and this is {here}: restore "
        "only a copy made by `bastion anonymise` in production",
    )


def check_after_unpack(manifest: dict, database: Path) -> None:
    """An anonymised copy's database is the one its mark was made for."""
    if settings.BASTION_ENVIRONMENT == PRODUCTION or source_of(manifest) != PRODUCTION:
        return
    if database_sha256(database) != manifest["anonymised"]["database_sha256"]:
        raise _refuse(
            manifest,
            f"backup {manifest.get('id')} claims to be anonymised but its database is not the anonymised copy: refused",
        )


def check_pg_repository(info: list[dict], repo: int | None) -> None:
    """Outside production, refuse a pgBackRest repository holding production backups. They cannot be
    anonymised (``bastion anonymise`` reads SQLite snapshots), and the repository, not one backup, is
    what a restore follows (WAL across backups), so one production backup taints it. A backup without
    the annotation (taken before it existed) counts as production. The annotations live in the
    repository's backup info, which pgBackRest encrypts with the repository's passphrase."""
    here = settings.BASTION_ENVIRONMENT
    if here == PRODUCTION:
        return
    for stanza in info:
        for backup in stanza.get("backup", []):
            if repo is not None and backup.get("database", {}).get("repo-key") != repo:
                continue
            taken_in = (backup.get("annotation") or {}).get(ANNOTATION) or PRODUCTION
            if taken_in == PRODUCTION:
                raise _refuse({"id": backup.get("label"), "environment": taken_in},
                              f"pgBackRest backup {backup.get('label')} holds production data and this is {here}: "
                              "PostgreSQL backups cannot be anonymised yet, so they restore in production only")
