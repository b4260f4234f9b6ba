"""Add, change and remove an organisation's SIEM destinations, each change audited in the same
transaction. A destination's secret (the webhook's HMAC key, the bucket's secret access key) goes
into the credentials vault and is never shown again, except a webhook's, once, when it is made."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from bastion.audit import chain as audit
from bastion.siem.audit_actions import SIEM_DESTINATION_CREATED, SIEM_DESTINATION_DELETED, SIEM_DESTINATION_UPDATED
from bastion.siem.models import KINDS, STREAMS, SiemDestination
from bastion.tenancy import credentials, outbound
from bastion.tenancy.models import Organisation

EDITABLE = ("name", "url", "bucket", "prefix", "region", "access_key_id", "window_seconds", "ca_certificate",
            "streams", "enabled")


def summary(destination: SiemDestination) -> dict[str, Any]:
    return {name: getattr(destination, name) for name in ("name", "kind", *EDITABLE[1:])
            if name != "ca_certificate"} | {"has_ca_certificate": bool(destination.ca_certificate)}


def _http_url(url: str, errors: dict[str, ValidationError]) -> None:
    schemes = ["https", "http"] if settings.BASTION_SIEM_ALLOW_HTTP else ["https"]
    try:
        URLValidator(schemes=schemes)(url)
        outbound.check_url(url)
    except ValidationError:
        errors["url"] = ValidationError(f"Give an {' or '.join(schemes).upper()} URL.", code="invalid_url")
    except outbound.RefusedDestination as exc:
        errors["url"] = ValidationError(f"Not a public address: {exc}.", code="private_address")


def _syslog_address(address: str, errors: dict[str, ValidationError]) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        errors["url"] = ValidationError("Give the syslog server as host:port.", code="invalid_address")
        return
    try:
        outbound.public_address(host.strip("[]"), int(port))
    except outbound.RefusedDestination as exc:
        errors["url"] = ValidationError(f"Not a public address: {exc}.", code="private_address")


def _check(destination: SiemDestination) -> None:
    errors: dict[str, ValidationError] = {}
    if destination.kind not in KINDS:
        errors["kind"] = ValidationError("A destination is a webhook, s3 or syslog.", code="invalid_kind")
    if not destination.streams or set(destination.streams) - set(STREAMS):
        errors["streams"] = ValidationError("Stream 'audit', 'access' or both.", code="invalid_streams")
    if destination.kind == "webhook" or (destination.kind == "s3" and destination.url):
        _http_url(destination.url, errors)
    if destination.kind == "s3":
        if not destination.bucket:
            errors["bucket"] = ValidationError("Name the bucket.", code="required")
        if not 60 <= destination.window_seconds <= 86400:
            errors["window_seconds"] = ValidationError("Between 60 and 86400 seconds.", code="invalid_window")
    if destination.kind == "syslog":
        _syslog_address(destination.url, errors)
    if errors:
        raise ValidationError(errors)


def add(organisation: Organisation, *, kind: str, name: str, secret: str = "", **fields: Any) -> tuple[SiemDestination, str | None]:
    """Register a destination; a webhook's HMAC secret is made here and returned this once."""
    destination = SiemDestination(organisation_id=organisation.id, kind=kind, name=name.strip(),
                                  **{k: v for k, v in fields.items() if k in EDITABLE and v is not None})
    if not destination.streams:
        destination.streams = list(STREAMS)
    _check(destination)
    shown = None
    if kind == "webhook":
        secret = shown = f"whsec_{secrets.token_urlsafe(32)}"
    elif kind == "s3" and not (secret and destination.access_key_id):
        raise ValidationError({"secret": ValidationError("Give the access key id and its secret.", code="required")})
    with transaction.atomic():
        if secret:
            destination.credential = credentials.store(organisation, name=f"SIEM destination {destination.name}",
                                                       service=f"siem-{kind}", kind="api_key", secret=secret)
        destination.save(force_insert=True)
        audit.record(SIEM_DESTINATION_CREATED, organisation_id=organisation.id, resource_type="siem_destination",
                     resource_id=destination.id, changes=summary(destination))
    return destination, shown


def update(destination: SiemDestination, *, secret: str | None = None, **changes: Any) -> SiemDestination:
    before = summary(destination)
    for name, value in changes.items():
        if name in EDITABLE and value is not None:
            setattr(destination, name, value)
    _check(destination)
    with transaction.atomic():
        if secret and destination.credential is not None:
            credentials.rotate(destination.credential, secret=secret)
        destination.attempts, destination.next_attempt_at = 0, None  # a fixed destination is tried at once
        destination.save()
        audit.record(SIEM_DESTINATION_UPDATED, organisation_id=destination.organisation_id,
                     resource_type="siem_destination", resource_id=destination.id,
                     changes=audit.diff(before, summary(destination)) | ({"secret": "rotated"} if secret else {}))
    return destination


def remove(destination: SiemDestination) -> None:
    with transaction.atomic():
        audit.record(SIEM_DESTINATION_DELETED, organisation_id=destination.organisation_id,
                     resource_type="siem_destination", resource_id=destination.id, changes=summary(destination))
        credential = destination.credential
        destination.delete()
        if credential is not None:
            credentials.delete(credential)
