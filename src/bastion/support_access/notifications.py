"""Emails about staff access: a request to answer (to each of the organisation's admins, with a
link signed for them), a break-glass grant opened, a review due, and the daily digest of what staff
did under grants. Each recipient gets their own message."""

from __future__ import annotations

import datetime
import logging

from django.core import signing
from django.core.mail import send_mail

from bastion.support_access import clock
from bastion.support_access.models import AccessRequest
from bastion.tenancy import context, members
from bastion.tenancy.models import Organisation

logger = logging.getLogger(__name__)
DECIDE_PERMISSION = "members.manage"  # who answers staff access requests: the organisation's admins
LINK_SALT = "bastion.support_access.review-link"
LINK_MAX_AGE = 24 * 3600


def admins(organisation_id) -> list:
    """Active members whose organisation-wide role may answer requests (read in its tenant context)."""
    return members.holding(DECIDE_PERMISSION, organisation_id)


def signed_link(request: AccessRequest, admin, slug: str, base_url: str) -> str:
    token = signing.dumps({"r": str(request.id), "u": admin.pk}, salt=LINK_SALT, compress=True)
    return f"{base_url.rstrip('/')}/o/{slug}/security/access/{request.id}/?t={token}"


def link_is_for(token: str, request: AccessRequest, user) -> bool:
    try:
        value = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        return False
    return value == {"r": str(request.id), "u": user.pk}


def _send(subject: str, body: str, addresses) -> None:
    for address in addresses:
        try:
            send_mail(subject, body, None, [address])
        except OSError:
            logger.exception("could not email %s about staff access", subject)


def _describe(request: AccessRequest) -> str:
    return (f"Staff member: {request.requested_by_label}\nReason: {request.get_reason_display()}"
            f"{' — ' + request.reference if request.reference else ''}\n"
            f"{request.details + chr(10) if request.details else ''}"
            f"Access: {request.get_mode_display()} to {request.scope_label} for {request.minutes} minutes\n"
            f"Grant: {request.id}\n")


def _loaded(request_id):
    with context.platform_scope():
        found = AccessRequest.all_tenants.filter(id=request_id).values_list("organisation_id", flat=True).first()
        organisation = Organisation.objects.filter(id=found).first() if found else None
    return organisation


def request_made(request_id, base_url: str) -> None:
    organisation = _loaded(request_id)
    if organisation is None:
        return
    with context.tenant_context(organisation.id):
        request = AccessRequest.objects.get(id=request_id)
        for admin in admins(organisation.id):
            body = (f"Platform staff ask for access to {organisation.name}'s data.\n\n{_describe(request)}\n"
                    f"Approve or deny it (sign in first; the link is for you only, for 24 hours):\n"
                    f"{signed_link(request, admin, organisation.slug, base_url)}\n\n"
                    f"It needs {request.approvers_required} approval(s); unanswered it expires at "
                    f"{request.answer_by:%Y-%m-%d %H:%M} UTC.\n")
            _send(f"[Bastion] staff access request for {organisation.name}", body, [admin.email])


def break_glass_opened(request_id, base_url: str) -> None:
    organisation = _loaded(request_id)
    if organisation is None:
        return
    with context.tenant_context(organisation.id):
        request = AccessRequest.objects.get(id=request_id)
        body = (f"Break-glass access to {organisation.name}'s data was opened NOW for incident response, "
                f"approved by a second staff member ({request.decided_by_label}).\n\n{_describe(request)}"
                f"Until: {request.ends_at:%Y-%m-%d %H:%M} UTC. It is marked for your review.\n"
                f"See everything done under it, or revoke it at once: "
                f"{base_url.rstrip('/')}/o/{organisation.slug}/security/access/\n")
        _send(f"[Bastion] break-glass staff access to {organisation.name} opened",
              body, [a.email for a in admins(organisation.id)])


def review_due(request_id, base_url: str) -> None:
    from bastion.support_access.staff import staff_emails

    organisation = _loaded(request_id)
    if organisation is None:
        return
    with context.tenant_context(organisation.id):
        request = AccessRequest.objects.get(id=request_id)
        body = (f"A staff access grant to {organisation.name} has ended: review what was done under it and "
                f"mark it reviewed.\n\n{_describe(request)}")
        _send(f"[Bastion] review staff access grant {request.id}", body
              + f"\n{base_url.rstrip('/')}/o/{organisation.slug}/security/access/\n",
              [a.email for a in admins(organisation.id)])
    _send(f"[Bastion] review staff access grant {request_id}", body + f"\n{base_url.rstrip('/')}/staff/\n",
          staff_emails("security"))


def send_digests(hours: int = 24) -> int:
    """Each organisation whose data staff used in the last ``hours``: one email per admin listing it."""
    from bastion.support_access.transparency import feed

    since = clock.now() - datetime.timedelta(hours=hours)
    with context.platform_scope():
        organisation_ids = set(AccessRequest.all_tenants.filter(state="approved", starts_at__lte=clock.now())
                               .exclude(ends_at__lt=since).values_list("organisation_id", flat=True))
    sent = 0
    for organisation_id in organisation_ids:
        with context.tenant_context(organisation_id):
            events = feed(organisation_id, since=since)
            if not events:
                continue
            lines = [f"{e.occurred_at:%Y-%m-%d %H:%M:%S} {e.actor_label} {e.changes.get('method')} "
                     f"{e.changes.get('path')} → {e.changes.get('status')} (grant {e.changes.get('grant')}, "
                     f"{e.changes.get('reason')} {e.changes.get('reference')})" for e in reversed(events)]
            recipients = [a.email for a in admins(organisation_id)]
            _send("[Bastion] staff access digest", "What platform staff did under grants in the last "
                  f"{hours} hours:\n\n" + "\n".join(lines) + "\n", recipients)
            sent += len(recipients)
    return sent
