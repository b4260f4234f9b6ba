"""Deleting one's own account: a request, a grace period (``BASTION_ACCOUNT_DELETION_GRACE_DAYS``)
cancellable from a signed link emailed to the person, then erasure by the daily job
(``erase_due``), which calls ``privacy.erasure.erase_person``."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.privacy import erasure
from bastion.privacy.audit_actions import ACCOUNT_DELETION_CANCELLED, ACCOUNT_DELETION_REQUESTED
from bastion.privacy.models import DeletionRequest

CANCEL_SALT = "bastion.privacy.cancel-account-deletion"
CANCEL_PATH = "/accounts/privacy/cancel-deletion/"


class InvalidCancelLink(Exception):
    pass


def pending(user) -> DeletionRequest | None:
    return DeletionRequest.objects.filter(user=user, cancelled_at__isnull=True, erased_at__isnull=True).first()


def cancel_token(request: DeletionRequest) -> str:
    return signing.dumps({"deletion": str(request.id)}, salt=CANCEL_SALT)


def request_deletion(user, *, base_url: str, now: datetime.datetime | None = None) -> DeletionRequest:
    """Schedule the erasure of ``user``. A sole owner is refused (``erasure.SoleOwner``); asking
    again while a request is pending returns that request."""
    sole = erasure.sole_ownerships(user.pk)
    if sole:
        raise erasure.SoleOwner(sole)
    now = now or timezone.now()
    with transaction.atomic():
        existing = pending(user)
        if existing is not None:
            return existing
        request = DeletionRequest.objects.create(
            user=user, requested_at=now, due_at=now + datetime.timedelta(days=settings.BASTION_ACCOUNT_DELETION_GRACE_DAYS))
        audit.record(ACCOUNT_DELETION_REQUESTED, resource_type="user", resource_id=user.pk,
                     changes={"due_at": request.due_at})
        link = f"{base_url.rstrip('/')}{CANCEL_PATH}{cancel_token(request)}/"
        email, due = user.email, request.due_at
        transaction.on_commit(lambda: send_mail(
            "[Bastion] Your account will be deleted",
            f"You asked for your Bastion account to be deleted. It will be erased on {due:%Y-%m-%d %H:%M} UTC.\n\n"
            f"Changed your mind? Cancel the deletion here:\n{link}\n", None, [email]))
    return request


def cancel(request: DeletionRequest, *, now: datetime.datetime | None = None) -> DeletionRequest:
    if not request.pending:
        return request
    with transaction.atomic():
        request.cancelled_at = now or timezone.now()
        request.save(update_fields=["cancelled_at"])
        audit.record(ACCOUNT_DELETION_CANCELLED, resource_type="user", resource_id=request.user_id)
    return request


def cancel_by_token(token: str, *, now: datetime.datetime | None = None) -> DeletionRequest:
    """The emailed link: it works until the erasure has run, and only for its own request."""
    try:
        request_id = signing.loads(token, salt=CANCEL_SALT)["deletion"]
        request = DeletionRequest.objects.get(id=request_id)
    except (signing.BadSignature, KeyError, TypeError, ValueError, DeletionRequest.DoesNotExist) as exc:
        raise InvalidCancelLink("this cancel link is not valid") from exc
    if request.erased_at is not None:
        raise InvalidCancelLink("the account has already been erased")
    return cancel(request, now=now)


@dataclasses.dataclass
class DueErasures:
    erased: list[erasure.ErasureResult] = dataclasses.field(default_factory=list)
    suspended: list[erasure.ErasureResult] = dataclasses.field(default_factory=list)
    refused: list[tuple[int, str]] = dataclasses.field(default_factory=list)


def _nothing(stage: str, done: int, total: int) -> None:
    pass


def erase_due(*, now: datetime.datetime | None = None,
              progress: Callable[[str, int, int], None] = _nothing) -> DueErasures:
    """The daily job: erase every person whose grace period is over (``now`` is injectable)."""
    now = now or timezone.now()
    run = DueErasures()
    due = list(DeletionRequest.objects.filter(cancelled_at__isnull=True, erased_at__isnull=True, due_at__lte=now))
    for done, request in enumerate(due, 1):
        try:
            result = erasure.erase_person(request.user_id, now=now)
        except erasure.SoleOwner as exc:
            run.refused.append((request.user_id, str(exc)))  # became sole owner since: retried tomorrow
            continue
        if result.suspended:
            run.suspended.append(result)  # a legal hold: retried every day until it is released
        else:
            request.erased_at, request.erasure = now, result.as_dict()
            request.save(update_fields=["erased_at", "erasure"])
            run.erased.append(result)
        progress("erasures", done, len(due))
    return run
