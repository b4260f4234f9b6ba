"""Invitations: how a person joins an organisation. Used by the API and the console alike.

Nobody is made a member, and no account is made, for an address nobody has proven:

* ``invite`` checks the grantor rule up front (nobody offers a role they could not grant), stores
  the invitation (its token only as a keyed hash) with its audit event in one transaction, and
  emails the link. It does the same work, and answers the same, whether or not the address has
  an account. One exception: an existing account whose address is on one of the organisation's
  *verified* SSO domains is added at once (the organisation proved it owns that address).
* ``accept`` needs the signed-in user's *verified* address to be the invitation's, re-checks that
  the inviter may still grant the role (their grants now, not when they invited), and adds the
  membership (audited, ``tenancy.actions``) and marks the invitation accepted (audited) in one
  transaction.
* ``claim``: an account nobody had ever signed in to, without a usable password (made by
  add-member before invitations existed), is claimed by whoever proves its address by a reset
  link (sign-up with a taken address emails the address a way to one). Its grants were never
  accepted, so each becomes a pending invitation emailed to that address instead of being
  inherited (``release_unaccepted_grants``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.utils import build_absolute_uri
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.crypto import api_keys
from bastion.identity.audit_actions import (
    INVITATION_ACCEPTED,
    INVITATION_CREATED,
    INVITATION_RESENT,
    INVITATION_REVOKED,
)
from bastion.identity.models import Invitation, User
from bastion.identity.sso import discovery as sso_discovery
from bastion.identity.sso.models import VerifiedDomain
from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership, Organisation, Project, Workspace
from bastion.tenancy.permissions import BUILTIN_ROLE_NAMES

MANAGE = "members.manage"
VISIBLE_BY = "bastion.invitation_id"


@dataclass(frozen=True)
class InviteResult:
    """``status`` is ``invited`` (an email went out) or ``added`` (a verified-domain account)."""

    email: str
    status: str
    invitation: Invitation | None = None
    membership: Membership | None = None


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise _error("email", "Enter a valid email address.", "invalid_email") from exc
    return email


def _on_verified_domain(email: str) -> bool:
    """Is ``email``'s domain one the active organisation has proven (by DNS) it owns?"""
    domain = email.rpartition("@")[2]
    return VerifiedDomain.objects.filter(domain=domain, verified_at__isnull=False).exists()


def _summary(invitation: Invitation) -> dict:
    return {"email": invitation.email, "role": invitation.role, "scope": invitation.scope,
            "workspace": invitation.workspace_id, "project": invitation.project_id}


def _audit(action: str, invitation: Invitation, changes: dict) -> None:
    audit.record(action, organisation_id=invitation.organisation_id, resource_type="invitation",
                 resource_id=invitation.pk, changes=changes)


def _create(organisation: Organisation, *, email: str, role: str, workspace, project, invited_by_id,
            reason: str) -> tuple[Invitation, str]:
    """The invitation row and its audit event (inside the caller's transaction); the link's token."""
    new = api_keys.generate()
    invitation = Invitation.objects.create(
        organisation=organisation, email=email, role=role, workspace=workspace, project=project,
        invited_by_id=invited_by_id, public_id=new.public_id, secret_hash=new.secret_hash,
        expires_at=timezone.now() + datetime.timedelta(days=settings.BASTION_INVITATION_DAYS),
    )
    _audit(INVITATION_CREATED, invitation, {**_summary(invitation), "reason": reason})
    return invitation, new.token


def role_label(invitation: Invitation) -> str:
    """The offered role's name (a custom role's own name)."""
    with context.tenant_context(invitation.organisation_id):
        try:
            builtin, custom = actions.parse_role(invitation.organisation, invitation.role)
        except ValidationError:
            return invitation.role  # a custom role deleted since: acceptance will refuse it
    return custom.name if custom is not None else BUILTIN_ROLE_NAMES[builtin]


def _send(organisation: Organisation, invitation: Invitation, token: str, request=None) -> None:
    link = build_absolute_uri(request, reverse("console:invitation", kwargs={"token": token}))
    name = " ".join(organisation.name.split())  # one line: a header may not hold a line break
    how_to_sign_in = (f"sign in as {invitation.email} through your organisation's single sign-on"
                      if sso_discovery.connection_for_email(invitation.email) is not None
                      else f"sign in with (or sign up as) {invitation.email}")
    send_mail(
        f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You are invited to join {name}",
        f"You are invited to join {organisation.name} on Bastion, with the role {role_label(invitation)} "
        f"on {'a project' if invitation.project_id else 'a workspace' if invitation.workspace_id else 'the organisation'}.\n\n"
        f"To accept, open this link, {how_to_sign_in}, and confirm:\n\n{link}\n\n"
        f"The link works for {settings.BASTION_INVITATION_DAYS} days. If you did not expect it, ignore this email.\n",
        settings.DEFAULT_FROM_EMAIL,
        [invitation.email],
    )


def invite(
    organisation: Organisation,
    *,
    email: str,
    role: str,
    workspace: Workspace | None = None,
    project: Project | None = None,
    invited_by_id: int | None,
    grantor_grants: list[Membership] | None,
    request=None,
) -> InviteResult:
    """Invite ``email`` to ``role`` (in the active tenant context of ``organisation``)."""
    email = normalise_email(email)
    if invited_by_id is None:
        raise _error("invitation", "Only a member can invite.", "no_inviter")  # ``None`` marks the platform's own
    actions.check_grant(organisation, role=role, workspace=workspace, project=project, grantor_grants=grantor_grants)
    if _on_verified_domain(email):
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is not None:
            membership = actions.add_membership(organisation, user=user, role=role, workspace=workspace,
                                                project=project, grantor_grants=grantor_grants)
            return InviteResult(email=email, status="added", membership=membership)
    with transaction.atomic():
        invitation, token = _create(organisation, email=email, role=role, workspace=workspace, project=project,
                                    invited_by_id=invited_by_id, reason="invited")
    _send(organisation, invitation, token, request)
    return InviteResult(email=email, status="invited", invitation=invitation)


def find(token: str) -> Invitation | None:
    """The invitation a link's token names (whatever its state), else None; no tenant needed."""
    with transaction.atomic():
        invitation = api_keys.find(token or "", Invitation.all_tenants, visible_by=VISIBLE_BY)
    if invitation is not None:
        # Its organisation too, read as that organisation (row-level security hides it otherwise).
        with context.tenant_context(invitation.organisation_id):
            invitation.organisation = Organisation.objects.get(id=invitation.organisation_id)
    return invitation


def refusal(invitation: Invitation) -> ValidationError | None:
    """Why ``invitation`` can no longer be accepted, if it can't."""
    if invitation.accepted_at is not None:
        return _error("invitation", "This invitation has already been accepted.", "invitation_used")
    if invitation.revoked_at is not None:
        return _error("invitation", "This invitation was withdrawn.", "invitation_revoked")
    if invitation.expires_at <= timezone.now():
        return _error("invitation", "This invitation has expired. Ask for a new one.", "invitation_expired")
    return None


def may_accept(invitation: Invitation, user) -> bool:
    """Has ``user`` proven (verified) the address the invitation was sent to?"""
    return EmailAddress.objects.filter(user_id=user.pk, email__iexact=invitation.email, verified=True).exists()


def _inviter_grants(invitation: Invitation) -> list[Membership] | None:
    """The inviter's organisation-wide grant now (``None``: an invitation the platform made)."""
    if invitation.invited_by_id is None:
        return None
    grants = list(Membership.objects.filter(user_id=invitation.invited_by_id, workspace__isnull=True,
                                            project__isnull=True, user__is_active=True).select_related("custom_role"))
    if not grants or MANAGE not in grants[0].permissions():
        raise _error("invitation", "Whoever invited you can no longer add members. Ask for a new invitation.",
                     "inviter_lost_rights")
    return grants


def accept(invitation: Invitation, user) -> Membership:
    if not may_accept(invitation, user):
        raise _error("invitation", "This invitation was sent to another address. Sign in with that address "
                     "(confirmed) to accept it.", "wrong_account")
    with context.tenant_context(invitation.organisation_id):
        with transaction.atomic():
            current = Invitation.objects.select_for_update().select_related("organisation").get(id=invitation.id)
            if problem := refusal(current):
                raise problem
            membership = actions.add_membership(
                current.organisation, user=user, role=current.role, workspace=current.workspace,
                project=current.project, grantor_grants=_inviter_grants(current),
            )
            current.accepted_at = timezone.now()
            current.accepted_by = user
            current.save(update_fields=["accepted_at", "accepted_by"])
            _audit(INVITATION_ACCEPTED, current, {**_summary(current), "user": user.get_username()})
    return membership


def pending():
    """The active organisation's invitations not yet accepted, withdrawn or expired."""
    return (Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
            .select_related("workspace", "project"))


def revoke(invitation: Invitation) -> None:
    if problem := refusal(invitation):
        raise problem
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        _audit(INVITATION_REVOKED, invitation, _summary(invitation))


def resend(invitation: Invitation, request=None) -> Invitation:
    """Email a pending invitation again with a new link, valid ``BASTION_INVITATION_DAYS`` from
    now; the link sent before stops working (each link names one token). Audited."""
    if problem := refusal(invitation):
        raise problem
    new = api_keys.generate()
    with transaction.atomic():
        current = Invitation.objects.select_for_update().get(id=invitation.id)
        if problem := refusal(current):
            raise problem
        current.public_id, current.secret_hash = new.public_id, new.secret_hash
        current.expires_at = timezone.now() + datetime.timedelta(days=settings.BASTION_INVITATION_DAYS)
        current.save(update_fields=["public_id", "secret_hash", "expires_at"])
        _audit(INVITATION_RESENT, current, {**_summary(current), "expires_at": current.expires_at.isoformat()})
    _send(current.organisation, current, new.token, request)
    return current


def is_unclaimed(user) -> bool:
    """An account made for an address nobody proved: never signed in to, no usable password."""
    return bool(user.pk) and user.last_login is None and not user.has_usable_password()


def claim(user, request=None) -> int:
    """Whoever just proved ``user``'s address by a reset link claims the unclaimed account: the
    address is verified (the link proved it) and the grants they never accepted are released."""
    email = user.email.lower()
    EmailAddress.objects.filter(user_id=user.pk).exclude(email__iexact=email).update(primary=False)
    address = EmailAddress.objects.filter(user_id=user.pk, email__iexact=email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    elif not address.verified or not address.primary:
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])
    return release_unaccepted_grants(user, request)


def release_unaccepted_grants(user, request=None) -> int:
    """``user`` has just been claimed by whoever proved its address: each of its grants, never
    accepted, becomes a pending invitation to that address (emailed), and the grant is removed,
    both audited. Grants of an organisation that verified the address's domain stay. How many
    grants were turned into invitations."""
    with transaction.atomic():
        context.bind_user(user.pk)
        organisation_ids = set(Membership.all_tenants.filter(user_id=user.pk).values_list("organisation_id", flat=True))
        context.bind_user(None)
    sent = []
    for organisation_id in organisation_ids:
        with context.tenant_context(organisation_id):
            if _on_verified_domain(user.email.lower()):
                continue
            grants = list(Membership.objects.filter(user_id=user.pk).select_related(
                "organisation", "custom_role", "workspace", "project"))
            # Lower grants first: removing the organisation-wide one removes them too.
            grants.sort(key=lambda g: g.scope == "organisation")
            for grant in grants:
                try:
                    with transaction.atomic():
                        invitation, token = _create(
                            grant.organisation, email=user.email.lower(), role=grant.role_key,
                            workspace=grant.workspace, project=grant.project, invited_by_id=None,
                            reason="unaccepted_grant_of_claimed_account",
                        )
                        actions.remove_membership(grant)
                except ValidationError:
                    continue  # the organisation's last owner stays one
                sent.append((grant.organisation, invitation, token))
    for organisation, invitation, token in sent:
        _send(organisation, invitation, token, request)
    return len(sent)
