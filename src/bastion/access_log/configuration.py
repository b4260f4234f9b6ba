"""What an organisation's read-access log records (evidence downloads, exports and credential
previews by default; record views when the organisation turns them on)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from bastion.access_log.audit_actions import ACCESS_LOG_SETTINGS_UPDATED
from bastion.access_log.models import AccessLogSettings
from bastion.audit import chain as audit

FIELDS = {"record_view": "record_views", "evidence_download": "evidence_downloads", "export": "exports",
          "credential_preview": "credential_previews"}


def current(organisation_id: uuid.UUID) -> AccessLogSettings:
    found = AccessLogSettings.all_tenants.filter(organisation_id=organisation_id).first()
    return found or AccessLogSettings(organisation_id=organisation_id)


def enabled(organisation_id: uuid.UUID, kind: str) -> bool:
    return bool(getattr(current(organisation_id), FIELDS[kind]))


def enabled_with(organisation_id: uuid.UUID, kind: str, query: QuerySet[Any, Any] | None) -> tuple[bool, Any]:
    """``enabled``, and the one value ``query`` answers (None without a query or a row), in one round
    trip: a logged request pays for the settings read and its actor's pseudonym together."""
    field = FIELDS[kind]
    flag_sql, flag_params = (AccessLogSettings.all_tenants.filter(organisation_id=organisation_id)
                             .values(field)[:1].query.sql_with_params())
    other_sql, other_params = query.query.sql_with_params() if query is not None else ("NULL", ())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({flag_sql}), ({other_sql})", [*flag_params, *other_params])
        flag, answer = cursor.fetchone()
    if flag is None:  # no settings saved: the defaults
        flag = getattr(AccessLogSettings(organisation_id=organisation_id), field)
    return bool(flag), answer


def as_dict(configured: AccessLogSettings) -> dict[str, bool]:
    return {name: getattr(configured, name) for name in FIELDS.values()}


def update(organisation_id: uuid.UUID, **changes: Any) -> AccessLogSettings:
    unknown = set(changes) - set(FIELDS.values())
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    with transaction.atomic():
        configured = current(organisation_id)
        before = as_dict(configured)
        for name, value in changes.items():
            if value is not None:
                setattr(configured, name, bool(value))
        configured.save()
        after = as_dict(configured)
        audit.record(ACCESS_LOG_SETTINGS_UPDATED, organisation_id=organisation_id, resource_type="access_log_settings",
                     resource_id=organisation_id, changes=audit.diff(before, after))
    return configured
