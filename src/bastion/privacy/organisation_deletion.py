"""Deleting an organisation, with a grace period (``BASTION_ORGANISATION_DELETION_GRACE_DAYS``):
an owner schedules it, every owner is emailed a signed cancel link, and the daily job deletes it
(``tenancy.actions.delete_organisation``: crypto-shredded) once due, unless a legal hold on the
organisation suspends it."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.privacy import holds, ledger
from bastion.privacy.audit_actions import ORGANISATION_DELETION_CANCELLED, ORGANISATION_DELETION_SCHEDULED
from bastion.privacy.models import OrganisationDeletion
from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership, Organisation

CANCEL_SALT = "bastion.privacy.cancel-organisation-deletion"
CANCEL_PATH = "/accounts/privacy/cancel-organisation-deletion/"


class InvalidCancelLink(Exception):
    pass


def pending(organisation_id) -> OrganisationDeletion | None:
    return OrganisationDeletion.all_tenants.filter(organisation_id=organisation_id, cancelled_at__isnull=True).first()


def schedule(organisation: Organisation, *, requested_by_label: str, base_url: str,
             now: datetime.datetime | None = None) -> OrganisationDeletion:
    """Run in the organisation's tenant context (a request's, or ``tenant_context``)."""
    now = now or timezone.now()
    with transaction.atomic():
        existing = pending(organisation.id)
        if existing is not None:
            return existing
        deletion = OrganisationDeletion.objects.create(
            organisation=organisation, requested_by_label=requested_by_label, requested_at=now,
            due_at=now + datetime.timedelta(days=settings.BASTION_ORGANISATION_DELETION_GRACE_DAYS))
        audit.record(ORGANISATION_DELETION_SCHEDULED, organisation_id=organisation.id, resource_type="organisation",
                     resource_id=organisation.id, changes={"due_at": deletion.due_at})
        token = signing.dumps({"organisation": str(organisation.id), "deletion": str(deletion.id)}, salt=CANCEL_SALT)
        link = f"{base_url.rstrip('/')}{CANCEL_PATH}{token}/"
        owners = list(Membership.objects.filter(builtin_role="owner", workspace__isnull=True, project__isnull=True)
                      .values_list("user__email", flat=True))
        name, due = organisation.name, deletion.due_at
        transaction.on_commit(lambda: send_mail(
            f"[Bastion] {name} will be deleted",
            f"{requested_by_label} asked for the organisation {name} to be deleted. Everything in it will be "
            f"deleted and its keys destroyed on {due:%Y-%m-%d %H:%M} UTC.\n\nTo cancel, open:\n{link}\n", None, owners))
    return deletion


def cancel_by_token(token: str, *, now: datetime.datetime | None = None) -> OrganisationDeletion:
    try:
        claims = signing.loads(token, salt=CANCEL_SALT)
        organisation_id, deletion_id = uuid.UUID(claims["organisation"]), uuid.UUID(claims["deletion"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidCancelLink("this cancel link is not valid") from exc
    with context.tenant_context(organisation_id):
        deletion = OrganisationDeletion.objects.filter(id=deletion_id).first()
        if deletion is None:
            raise InvalidCancelLink("the organisation has already been deleted, or the link is not valid")
        if deletion.cancelled_at is None:
            deletion.cancelled_at = now or timezone.now()
            deletion.save(update_fields=["cancelled_at"])
            audit.record(ORGANISATION_DELETION_CANCELLED, organisation_id=organisation_id,
                         resource_type="organisation", resource_id=organisation_id)
    return deletion


@dataclasses.dataclass
class DueDeletions:
    deleted: list[str] = dataclasses.field(default_factory=list)
    held: dict[str, str] = dataclasses.field(default_factory=dict)  # slug → the hold that suspends it


def delete_due(*, now: datetime.datetime | None = None) -> DueDeletions:
    now = now or timezone.now()
    run = DueDeletions()
    with context.platform_scope():
        organisations = list(Organisation.objects.order_by("slug"))
    for organisation in organisations:
        with context.tenant_context(organisation.id):
            due = OrganisationDeletion.objects.filter(cancelled_at__isnull=True, due_at__lte=now).exists()
            if not due:
                continue
            # Deleting the organisation deletes whatever any of its holds covers.
            hold = next(iter(holds.active(organisation.id)), None)
            if hold is not None:
                run.held[organisation.slug] = hold.describe()
                continue
            # The ledger entry first (see ``privacy.ledger``): a restore of an older backup deletes it again.
            entry = ledger.append(ledger.ORGANISATION_DELETED, organisation.id, now)
            with transaction.atomic():
                actions.delete_organisation(organisation)
                ledger.mark_applied(entry)
            run.deleted.append(organisation.slug)
    return run
