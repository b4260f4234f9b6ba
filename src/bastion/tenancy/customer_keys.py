"""An organisation's own key (BYOK, on ``BASTION_KMS=aws-kms``): the external id its role in the
customer's account must require, configuring the key (probed, then every key of the organisation
re-wrapped under it, audited in the same transaction), its state as the customer's account reports
it, and its use counted per hour from the audit log (each wrap and unwrap is an audit event).
The provider itself is ``crypto/customer_kms.py``; docs/keys.md has the customer's set-up steps."""

from __future__ import annotations

import datetime
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.dispatch import receiver
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.audit.models import AuditEvent
from bastion.crypto import customer_kms, keyring, rotation
from bastion.crypto.key_models import CustomerKey
from bastion.crypto.signals import customer_key_used
from bastion.tenancy import context
from bastion.tenancy.audit_actions import CUSTOMER_KEY_CONFIGURED, CUSTOMER_KEY_USED
from bastion.tenancy.models import Organisation


@dataclass(frozen=True)
class CustomerKeyStatus:
    configured: bool
    external_id: str
    key_arn: str
    role_arn: str
    state: str  # Enabled, Disabled, PendingDeletion, unreachable (…), or "not configured"
    configured_at: datetime.datetime | None
    uses_per_hour: list[dict[str, Any]]


def _row(organisation: Organisation) -> CustomerKey:
    """The organisation's row, made with a fresh external id the first time it is asked for."""
    row = CustomerKey.objects.filter(organisation_id=organisation.id).first()
    if row is None:
        row = CustomerKey.objects.create(organisation_id=organisation.id, external_id=secrets.token_urlsafe(24))
    return row


def configure(organisation: Organisation, *, key_arn: str, role_arn: str) -> CustomerKey:
    """Wrap the organisation's keys under its own key from now on. Refused (``ValidationError`` with a
    code) unless the installation is on aws-kms, the ARNs are well formed, the key is in the declared
    region, and a probe wraps and unwraps through the role."""
    if settings.BASTION_KMS != "aws-kms":
        raise ValidationError("Customer-managed keys need BASTION_KMS=aws-kms on this installation.",
                              code="customer_keys_unsupported")
    if not customer_kms.KEY_ARN.fullmatch(key_arn):
        raise ValidationError("key_arn is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/UUID).", code="invalid")
    if not customer_kms.ROLE_ARN.fullmatch(role_arn):
        raise ValidationError("role_arn is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).", code="invalid")
    region = customer_kms.region_of(key_arn)
    if settings.BASTION_REGION and region != settings.BASTION_REGION:
        raise ValidationError(f"The key is in {region}; this installation keeps data in {settings.BASTION_REGION}.",
                              code="residency")
    with context.tenant_context(organisation.id):
        row = _row(organisation)
    provider = customer_kms.CustomerAwsKMS(organisation_id=str(organisation.id), key_arn=key_arn, role_arn=role_arn,
                                           external_id=row.external_id)
    probe = secrets.token_bytes(32)
    probe_context = f"bastion-customer-key-probe|{organisation.id}".encode()
    try:
        if provider.unwrap(provider.wrap(probe, probe_context, owner=str(organisation.id)), probe_context) != probe:
            raise customer_kms.CustomerKeyUnavailable("the probe did not come back unchanged")
    except customer_kms.CustomerKeyUnavailable as exc:
        raise ValidationError(f"The key cannot be used through the role: {exc}",
                              code="customer_key_unavailable") from None
    with context.tenant_context(organisation.id):
        row = CustomerKey.objects.select_for_update().get(organisation_id=organisation.id)
        previous = row.key_arn
        row.key_arn, row.role_arn, row.configured_at = key_arn, role_arn, timezone.now()
        row.save(update_fields=["key_arn", "role_arn", "configured_at"])
        version = rotation.new_versions(str(organisation.id))  # every key re-wrapped, a new data key version
        audit.record(CUSTOMER_KEY_CONFIGURED, organisation_id=organisation.id, resource_type="customer_key",
                     resource_id=organisation.id, changes={"key_arn": [previous, key_arn], "role_arn": role_arn,
                                                           "data_key_version": version})
    keyring.forget_cached(str(organisation.id))
    return row


def status(organisation: Organisation, *, hours: int = 48) -> CustomerKeyStatus:
    with context.tenant_context(organisation.id):
        row = _row(organisation)
        since = timezone.now() - datetime.timedelta(hours=hours)
        uses = (AuditEvent.objects.filter(chain_id=organisation.id, action=CUSTOMER_KEY_USED, occurred_at__gte=since)
                .annotate(hour=TruncHour("occurred_at")).values("hour").annotate(uses=Count("id")).order_by("hour"))
        per_hour = [{"hour": use["hour"], "uses": use["uses"]} for use in uses]
    state = "not configured"
    if row.key_arn:
        state = customer_kms.CustomerAwsKMS.for_key(row).state()
    return CustomerKeyStatus(configured=bool(row.key_arn), external_id=row.external_id, key_arn=row.key_arn,
                             role_arn=row.role_arn, state=state, configured_at=row.configured_at,
                             uses_per_hour=per_hour)


@receiver(customer_key_used, dispatch_uid="bastion.tenancy.customer_keys.record_use")
def record_use(sender: Any, *, organisation_id: str, key_arn: str, operation: str, **kwargs: Any) -> None:
    """Every use of a customer's key is an event in that organisation's chain (its own transaction
    when the use happened outside one, e.g. a read)."""
    with context.tenant_context(uuid.UUID(str(organisation_id))), transaction.atomic():
        audit.record(CUSTOMER_KEY_USED, organisation_id=organisation_id, resource_type="customer_key",
                     resource_id=organisation_id, changes={"key_arn": key_arn, "operation": operation})
