"""Customer-held witnesses of the audit log: every new signed checkpoint of an organisation's chain
is pushed to the webhooks and email addresses its admins registered, so that a copy of each lives
outside the platform, where its operator cannot reach it.

A webhook receives ``POST`` with the checkpoint record as JSON (``{"type": "checkpoint", "body", "signature"}``,
the format ``bastion-verify --trusted-checkpoint`` reads) and two headers: ``X-Bastion-Timestamp`` (Unix
seconds) and ``X-Bastion-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``. The secret is
shown once, when the webhook is registered, and kept encrypted under the organisation's data key.

The minute job (``deliver_due``) delivers, in order, the checkpoints each witness has not received. A
failure is retried with exponential backoff (1, 2, 4 … minutes, at most an hour). Every delivery and every
failure is audited — in the platform's chain, naming the organisation and witness: in the organisation's
own chain each delivery would make a new checkpoint to deliver, for ever.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.audit.checkpoints import record_of
from bastion.audit.context import current_actor
from bastion.audit.models import Checkpoint
from bastion.tenancy import context, outbound
from bastion.tenancy.audit_actions import (
    AUDIT_WITNESS_ADDED,
    AUDIT_WITNESS_DELIVERED,
    AUDIT_WITNESS_DELIVERY_FAILED,
    AUDIT_WITNESS_REMOVED,
)
from bastion.tenancy.models import AuditWitness, Organisation

logger = logging.getLogger("bastion.tenancy")

MAX_BACKOFF_SECONDS = 3600
TIMEOUT_SECONDS = 10


def _summary(witness: AuditWitness) -> dict[str, Any]:
    return {"kind": witness.kind, "url": witness.url, "email": witness.email}


def add(organisation: Organisation, *, kind: str, url: str = "", email: str = "") -> tuple[AuditWitness, str | None]:
    """Register a witness; for a webhook, also its HMAC secret, returned this once and never again."""
    errors = {}
    if kind == "webhook":
        schemes = ["https", "http"] if settings.BASTION_AUDIT_WITNESS_ALLOW_HTTP else ["https"]
        try:
            URLValidator(schemes=schemes)(url)
        except ValidationError:
            errors["url"] = ValidationError(f"Give an {' or '.join(schemes).upper()} URL.", code="invalid_url")
        else:
            try:
                outbound.check_url(url)
            except outbound.RefusedDestination as exc:
                errors["url"] = ValidationError(f"Not a public address: {exc}.", code="private_address")
    elif kind == "email":
        try:
            EmailValidator()(email)
        except ValidationError:
            errors["email"] = ValidationError("Give an email address.", code="invalid_email")
    else:
        errors["kind"] = ValidationError("A witness is a webhook or an email address.", code="invalid_kind")
    if errors:
        raise ValidationError(errors)
    secret = f"whsec_{secrets.token_urlsafe(32)}" if kind == "webhook" else None
    with transaction.atomic():
        witness = AuditWitness.objects.create(
            organisation_id=organisation.id, kind=kind, url=url if kind == "webhook" else "",
            email=email if kind == "email" else "", secret=secret or "", created_by_label=current_actor().label,
            # A new witness starts from the chain's latest checkpoint, not from the first one.
            delivered_size=max(0, _latest_size(organisation.id) - 1),
        )
        audit.record(AUDIT_WITNESS_ADDED, organisation_id=organisation.id, resource_type="audit_witness",
                     resource_id=witness.id, changes=_summary(witness))
    return witness, secret


def remove(witness: AuditWitness) -> None:
    with transaction.atomic():
        witness.delete()
        audit.record(AUDIT_WITNESS_REMOVED, organisation_id=witness.organisation_id, resource_type="audit_witness",
                     resource_id=witness.id, changes=_summary(witness))


def _latest_size(organisation_id: uuid.UUID) -> int:
    latest = Checkpoint.objects.filter(chain_id=organisation_id).order_by("-tree_size").first()
    return latest.tree_size if latest else 0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class DeliveryError(Exception):
    """One line, without the secret: why the witness did not take the checkpoint."""


def _post(witness: AuditWitness, record: dict[str, Any], now: datetime.datetime) -> str:
    body = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json", "User-Agent": "Bastion audit witness",
        "X-Bastion-Timestamp": timestamp, "X-Bastion-Signature": signature(witness.secret, timestamp, body),
    }
    try:
        response = outbound.post(witness.url, body, headers, timeout=TIMEOUT_SECONDS)
    except outbound.RefusedDestination as exc:
        raise DeliveryError(f"the webhook was not called: {exc}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"the webhook could not be reached ({exc})") from None
    if 300 <= response.status < 400:
        raise DeliveryError(f"the webhook answered {response.status} (redirects are not followed)")
    if not 200 <= response.status < 300:
        raise DeliveryError(f"the webhook answered HTTP {response.status}")
    return f"HTTP {response.status}"


def _email(witness: AuditWitness, record: dict[str, Any], organisation: Organisation) -> str:
    size = record["body"]["tree_size"]
    text = (f"A new signed checkpoint of {organisation.name}'s audit log, tree size {size}. Keep this message: "
            "save the JSON below as a file, and later prove the log still extends it with\n\n"
            "    bastion-verify EXPORT --trusted-checkpoint FILE\n\n" + json.dumps(record, indent=2, sort_keys=True))
    try:
        send_mail(f"[Bastion] audit checkpoint {size} of {organisation.slug}", text, None, [witness.email])
    except OSError as exc:
        raise DeliveryError(f"the email could not be sent ({exc.__class__.__name__})") from None
    return "sent"


@dataclass
class DeliveryRun:
    delivered: list[tuple[str, int]] = field(default_factory=list)  # (witness id, tree size)
    failed: list[tuple[str, int, str]] = field(default_factory=list)  # (witness id, tree size, reason)


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(60 * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


def _record_platform(action: str, witness: AuditWitness, changes: dict[str, Any]) -> None:
    audit.record(action, organisation_id=None, resource_type="audit_witness", resource_id=witness.id,
                 changes={"organisation_id": str(witness.organisation_id), **_summary(witness), **changes})


def _deliver_one(witness: AuditWitness, organisation: Organisation, checkpoint: Checkpoint,
                 now: datetime.datetime, run: DeliveryRun) -> bool:
    record = record_of(checkpoint)
    try:
        outcome = _post(witness, record, now) if witness.kind == "webhook" else _email(witness, record, organisation)
    except DeliveryError as exc:
        with context.tenant_context(witness.organisation_id):
            witness.attempts += 1
            witness.next_attempt_at = now + backoff(witness.attempts)
            witness.last_error = str(exc)[:300]
            witness.save(update_fields=["attempts", "next_attempt_at", "last_error"])
            _record_platform(AUDIT_WITNESS_DELIVERY_FAILED, witness,
                             {"tree_size": checkpoint.tree_size, "attempt": witness.attempts, "error": str(exc),
                              "next_attempt_at": witness.next_attempt_at})
        logger.warning("audit witness %s of organisation %s: checkpoint %s not delivered (attempt %s): %s",
                       witness.id, witness.organisation_id, checkpoint.tree_size, witness.attempts, exc)
        run.failed.append((str(witness.id), checkpoint.tree_size, str(exc)))
        return False
    with context.tenant_context(witness.organisation_id):
        attempt = witness.attempts + 1
        witness.delivered_size, witness.attempts, witness.next_attempt_at, witness.last_error = (
            checkpoint.tree_size, 0, None, "")
        witness.save(update_fields=["delivered_size", "attempts", "next_attempt_at", "last_error"])
        _record_platform(AUDIT_WITNESS_DELIVERED, witness,
                         {"tree_size": checkpoint.tree_size, "attempt": attempt, "outcome": outcome})
    run.delivered.append((str(witness.id), checkpoint.tree_size))
    return True


def deliver_due(*, clock: Callable[[], datetime.datetime] = timezone.now,
                progress: Callable[[int], None] | None = None) -> DeliveryRun:
    """Deliver every checkpoint each witness has not received yet, unless its backoff is still running."""
    run, now = DeliveryRun(), clock()
    with context.platform_scope():
        organisations = list(Organisation.objects.all())
    for organisation in organisations:
        with context.tenant_context(organisation.id):
            due = [w for w in AuditWitness.objects.all() if w.next_attempt_at is None or w.next_attempt_at <= now]
            pending = {w.id: list(Checkpoint.objects.filter(chain_id=organisation.id, tree_size__gt=w.delivered_size)
                                  .order_by("tree_size")) for w in due}
        for witness in due:
            for checkpoint in pending[witness.id]:
                if not _deliver_one(witness, organisation, checkpoint, now, run):
                    break
        if progress:
            progress(len(run.delivered))
    return run


def verify_signature(secret: str, timestamp: str, body: bytes, header: str, *, tolerance: int = 300,
                     now: float | None = None) -> bool:
    """What a receiver does (documented, and used by the tests): the HMAC matches and the timestamp is recent."""
    try:
        fresh = abs((now if now is not None else time.time()) - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), header)
