"""Email subscriptions to incidents: double opt-in with a signed, expiring link; one-click
unsubscribe (RFC 8058); nobody learns from the answers whether an address is subscribed.

Tokens are Django's signing (HMAC of the secret key, salted per purpose): the confirm link carries
the subscriber id and its signing time, so it expires; the unsubscribe link does not expire, and
stops working once the row is gone.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from bastion.operations.models import Incident, IncidentUpdate, Subscriber

logger = logging.getLogger("bastion.operations")

CONFIRM_SALT = "bastion.status.subscription.confirm"
UNSUBSCRIBE_SALT = "bastion.status.subscription.unsubscribe"

Clock = Callable[[], datetime.datetime]


class InvalidLink(Exception):
    """A confirm or unsubscribe link that is altered, expired or for a subscription that is gone."""


@dataclass
class NotifyRun:
    sent: int = 0
    failed: list[str] = field(default_factory=list)  # subscriber ids


def normalise(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": ValidationError("Enter a valid email address.", code="invalid")}) from exc
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def confirm_token(subscriber: Subscriber) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(str(subscriber.id))


def unsubscribe_token(subscriber: Subscriber) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(subscriber.id))


def request_subscription(email: str, base_url: str, *, clock: Clock = timezone.now) -> None:
    """Send a confirmation link to a new or still unconfirmed address; an address already confirmed
    gets nothing. Called from a job, so the form answers alike (and as fast) in every case."""
    try:
        with transaction.atomic():
            subscriber, created = Subscriber.objects.get_or_create(email=email, defaults={"created_at": clock()})
            if not created and not subscriber.confirmed:
                subscriber.created_at = clock()
                subscriber.save(update_fields=["created_at"])
    except IntegrityError:
        return  # the same address at the same moment: the other request sends the link
    if subscriber.confirmed:
        return
    link = f"{base_url.rstrip('/')}/status/confirm/{confirm_token(subscriber)}"
    hours = settings.BASTION_STATUS_CONFIRM_SECONDS // 3600
    EmailMessage(
        "[Bastion status] Confirm your subscription",
        "Someone (we hope you) asked to be emailed when Bastion has an incident.\n\n"
        f"To confirm, open this link within {hours} hours:\n{link}\n\n"
        "If it was not you, ignore this email: nothing is sent to you unless you confirm.\n",
        to=[subscriber.email],
    ).send()


def confirm(token: str) -> Subscriber:
    try:
        subscriber_id = signing.TimestampSigner(salt=CONFIRM_SALT).unsign(
            token, max_age=settings.BASTION_STATUS_CONFIRM_SECONDS)
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise InvalidLink() from exc
    with transaction.atomic():
        updated = Subscriber.objects.filter(id=subscriber_id).update(confirmed=True)
    if not updated:
        raise InvalidLink()
    return Subscriber.objects.get(id=subscriber_id)


def check_unsubscribe(token: str) -> str:
    try:
        return signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature as exc:
        raise InvalidLink() from exc


def unsubscribe(token: str) -> bool:
    """Delete the subscription; True when there was one (a second click finds nothing, harmlessly)."""
    subscriber_id = check_unsubscribe(token)
    with transaction.atomic():
        deleted, _ = Subscriber.objects.filter(id=subscriber_id).delete()
    return bool(deleted)


def notify(incident_id: str, update_id: str, base_url: str) -> NotifyRun:
    """Email every confirmed subscriber the incident's new state; each message has its own
    unsubscribe link, in the body and in the List-Unsubscribe headers (one-click, RFC 8058)."""
    incident = Incident.objects.get(id=incident_id)
    update = IncidentUpdate.objects.get(id=update_id, incident=incident)
    base = base_url.rstrip("/")
    return email_subscribers(
        f"[Bastion status] {incident.title}: {update.get_status_display()}",
        f"{incident.title} — {update.get_status_display()} (impact: {incident.impact})\n\n{update.body}\n\n"
        f"Details: {base}/status/incidents/{incident.id}\n\n", base, what="status notification")


def email_subscribers(subject: str, text: str, base_url: str, *, what: str) -> NotifyRun:
    """``text`` to every confirmed subscriber, one message each, with its own unsubscribe link in the
    body and in the List-Unsubscribe headers (one-click, RFC 8058); a failure is logged and counted."""
    run = NotifyRun()
    base = base_url.rstrip("/")
    with get_connection() as connection:
        for subscriber in Subscriber.objects.filter(confirmed=True).order_by("created_at").iterator():
            unsubscribe = f"{base}/status/unsubscribe/{unsubscribe_token(subscriber)}"
            message = EmailMessage(
                subject, f"{text}Stop these emails: {unsubscribe}\n", to=[subscriber.email], connection=connection,
                headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                         "Auto-Submitted": "auto-generated"},
            )
            try:
                message.send()
            except OSError as exc:
                logger.warning("%s to subscriber %s failed: %s", what, subscriber.id, exc)
                run.failed.append(str(subscriber.id))
            else:
                run.sent += 1
    return run


def prune_unconfirmed(*, clock: Clock = timezone.now) -> int:
    """Addresses never confirmed are deleted once their link has expired: no reason to keep them."""
    before = clock() - datetime.timedelta(seconds=settings.BASTION_STATUS_CONFIRM_SECONDS)
    deleted, _ = Subscriber.objects.filter(confirmed=False, created_at__lt=before).delete()
    return deleted
