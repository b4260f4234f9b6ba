"""Deployment checks (``bastion config check``, ``bastion serve``): backups configured for production.
Each is an expectation: an error in production, a warning elsewhere (ids bastion.E6xx / W6xx)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register

from bastion.checks import expectation


@register(Tags.security, deploy=True)
def backups_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems = []
    postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if not settings.BASTION_BACKUP_ENABLED:
        problems.append(expectation(601, "Backups are switched off (BASTION_BACKUP_ENABLED=false).",
                                    "Unset BASTION_BACKUP_ENABLED: the hourly backup and the weekly drill then run."))
    if not settings.BASTION_BACKUP_URL:
        problems.append(expectation(602, "No offsite backup repository: every backup is on this machine.",
                                    "Set BASTION_BACKUP_URL=s3://bucket/prefix?endpoint_url=…&region=… "
                                    "(another region or provider)."))
    if postgres and not settings.BASTION_PGBACKREST_CONFIG:
        problems.append(expectation(603, "PostgreSQL without pgBackRest: no WAL archiving, no point-in-time recovery.",
                                    "Configure pgBackRest (docs/backups.md) and set BASTION_PGBACKREST_CONFIG."))
    data_dir = Path(settings.DATA_DIR).resolve()
    if (not postgres and not settings.BASTION_BACKUP_URL
            and Path(settings.BASTION_BACKUP_DIR).resolve().is_relative_to(data_dir)):
        problems.append(expectation(604, "The local backup repository is inside the data directory it backs up.",
                                    "Set BASTION_BACKUP_DIR to another disk, or BASTION_BACKUP_URL offsite."))
    return problems
