"""Deploy check (``manage.py check --deploy``, ``bastion config check``): backups configured for production."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def backups_configured(app_configs=None, **kwargs):
    problems = []
    postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if not settings.BASTION_BACKUP_ENABLED:
        problems.append(Warning("Backups are switched off (BASTION_BACKUP_ENABLED=false).",
                                hint="Unset BASTION_BACKUP_ENABLED: the hourly snapshot and weekly drill then run.",
                                id="bastion.backups.W001"))
    if not settings.BASTION_BACKUP_URL:
        problems.append(Warning("No offsite backup repository: every backup is on this machine.",
                                hint="Set BASTION_BACKUP_URL=s3://bucket/prefix?endpoint_url=…&region=… "
                                     "(another region or provider).", id="bastion.backups.W002"))
    if postgres and not settings.BASTION_PGBACKREST_CONFIG:
        problems.append(Warning("PostgreSQL without pgBackRest: no WAL archiving, no point-in-time recovery.",
                                hint="Configure pgBackRest (docs/backups.md) and set BASTION_PGBACKREST_CONFIG.",
                                id="bastion.backups.W003"))
    data_dir = Path(settings.DATA_DIR).resolve()
    if not postgres and not settings.BASTION_BACKUP_URL and Path(settings.BASTION_BACKUP_DIR).resolve().is_relative_to(data_dir):
        problems.append(Warning("The local backup repository is inside the data directory it backs up.",
                                hint="Set BASTION_BACKUP_DIR to another disk, or BASTION_BACKUP_URL offsite.",
                                id="bastion.backups.W004"))
    return problems
