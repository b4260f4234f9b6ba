"""What SCIM does to users: create, update, deactivate, reactivate and delete, each audited.

A SCIM user of an organisation is a ``ScimIdentity`` (what its identity provider says) linked to a
Bastion account, with an organisation-wide membership while active. Memberships are changed only
through the tenancy actions, which audit them too, with the token's maker as grantor.

A token is confined to its own organisation (issue 12):

- it links an existing account only when the address is on one of the organisation's verified
  domains (as SSO requires); any other address gets a new account, never someone else's, and a new
  account is never created disabled (nobody could then claim their own address);
- deactivation removes this organisation's memberships and revokes the API keys made in it, at
  once. Only for an account the organisation manages (its address on a verified domain, or created
  by this provider and in no other organisation) does it also end every session of the person and,
  when they are left in no organisation, disable the account;
- it enables again only an account that this organisation's provider disabled.

The account itself is shared by every organisation the user belongs to, so the provider's values
(email, name) are copied onto it only when this organisation's provider created it and the user
belongs to no other organisation; otherwise they stay on the ``ScimIdentity`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from scim2_models import ForbiddenException, InvalidValueException, UniquenessException

from bastion.audit import chain as audit
from bastion.crypto.models import ApiKey
from bastion.identity.models import ScimGroupMember, ScimIdentity
from bastion.identity.scim.audit_actions import (
    SCIM_ACCOUNT_DISABLED,
    SCIM_ACCOUNT_ENABLED,
    SCIM_USER_CREATED,
    SCIM_USER_DEACTIVATED,
    SCIM_USER_DELETED,
    SCIM_USER_REACTIVATED,
    SCIM_USER_UPDATED,
)
from bastion.identity.scim.tokens import ScimPrincipal
from bastion.identity.sso.discovery import organisation_owns_address
from bastion.tenancy import actions, api_keys, context
from bastion.tenancy.models import Membership, Organisation

DEFAULT_ROLE = "viewer"
LIMITS = {"user_name": 254, "external_id": 255, "given_name": 150, "family_name": 150}
MAX_EMAILS = 20


@dataclass
class UserData:
    """A user's attributes as the provider sent them (after PUT or PATCH semantics were applied)."""

    user_name: str
    external_id: str
    given_name: str
    family_name: str
    emails: list[dict]
    active: bool | None

    def __post_init__(self) -> None:
        self.user_name = (self.user_name or "").strip().lower()
        for name, limit in LIMITS.items():
            value = getattr(self, name) or ""
            if len(value) > limit or "\x00" in value:
                raise InvalidValueException(detail=f"{name} must be at most {limit} characters, without NUL.")
            setattr(self, name, value)
        if not self.user_name:
            raise InvalidValueException(detail="userName is required.")
        if len(self.emails) > MAX_EMAILS:
            raise InvalidValueException(detail=f"At most {MAX_EMAILS} emails.")


def is_email(value: str | None) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def account_email(data: UserData) -> str:
    """The account's address: userName when it is an email address, else the primary (or first) email."""
    emails = sorted(data.emails, key=lambda email: not email.get("primary"))
    for candidate in [data.user_name, *(email.get("value") for email in emails)]:
        if candidate and is_email(candidate):
            return candidate.strip().lower()
    raise InvalidValueException(
        detail="A Bastion account is an email address: send userName as one, or an address in emails.")


def organisation_members() -> set[int]:
    """Users with an organisation-wide membership of the active organisation."""
    return set(Membership.objects.filter(workspace__isnull=True, project__isnull=True)
               .values_list("user_id", flat=True))


def effective_active(identity: ScimIdentity, is_member: bool) -> bool | None:
    """What the provider set, unless the membership was since removed or restored outside SCIM
    (on the console): the answer never claims access the user has not got, or hides access they have."""
    if identity.active is None and is_member:
        return None
    return is_member


def _org_grant(user_id) -> Membership | None:
    return (Membership.objects.filter(user_id=user_id, workspace__isnull=True, project__isnull=True)
            .select_related("custom_role", "user").first())


def _check_may_manage(principal: ScimPrincipal, user_id) -> None:
    """A token does not touch someone whose role holds more than its maker's (an admin's token and an owner)."""
    if principal.grantor_grants is None:
        return
    grant = _org_grant(user_id)
    if grant is not None and not grant.permissions() <= principal.grantor_grants[0].permissions():
        raise ForbiddenException(detail="This user's role holds more than the token's maker may manage.")


def _belongs_elsewhere(user, organisation: Organisation) -> bool:
    context.bind_user(user.pk)  # lets row-level security show the user's memberships of other organisations
    try:
        return Membership.all_tenants.filter(user_id=user.pk).exclude(organisation_id=organisation.id).exists()
    finally:
        context.bind_user(None)


def _summary(identity: ScimIdentity) -> dict:
    return {"user_name": identity.user_name, "external_id": identity.external_id,
            "given_name": identity.given_name, "family_name": identity.family_name, "emails": identity.emails}


def _assign(identity: ScimIdentity, data: UserData) -> None:
    identity.user_name, identity.external_id = data.user_name, data.external_id
    identity.given_name, identity.family_name = data.given_name, data.family_name
    identity.emails, identity.active = data.emails, data.active


def _record(action: str, identity: ScimIdentity, changes: dict) -> None:
    audit.record(action, organisation_id=identity.organisation_id, resource_type="scim_user",
                 resource_id=identity.id, changes={"user_name": identity.user_name, **changes})


def _record_account(action: str, user, organisation: Organisation) -> None:
    """The account is the platform's, not one organisation's: its changes go to the platform chain."""
    audit.record(action, resource_type="user", resource_id=user.pk, changes={"organisation": organisation.id})


def _existing_account(email: str):
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    if user is None:
        address = EmailAddress.objects.filter(email__iexact=email, verified=True).select_related("user").first()
        user = address.user if address else None
    return user


def _manages(identity: ScimIdentity, organisation: Organisation) -> bool:
    """Whether the organisation may act on the person's account itself (sessions, enabled or not),
    not only on their membership: the address is on its verified domains, or its provider made
    the account and nobody else has them."""
    if organisation_owns_address(organisation.id, identity.user.email):
        return True
    return identity.manages_account and not _belongs_elsewhere(identity.user, organisation)


def create_user(principal: ScimPrincipal, data: UserData) -> ScimIdentity:
    """A new SCIM user: a new account, or the existing account with that address, linked to the organisation."""
    organisation = principal.organisation
    email = account_email(data)
    if ScimIdentity.objects.filter(user_name=data.user_name).exists():
        raise UniquenessException(detail="This userName is taken in this organisation.")
    if data.active is None:
        data.active = True
    user = _existing_account(email)
    created = user is None
    if created:
        # No password and an unverified address: the person proves the address with a reset link
        # (or claims it by signing up). Never disabled: a disabled account would lock its owner out.
        user = get_user_model().objects.create_user(email=email, password=None, first_name=data.given_name,
                                                    last_name=data.family_name)
    elif not organisation_owns_address(organisation.id, email):
        raise UniquenessException(detail="This address is in use outside the organisation's verified domains: "
                                         "verify the domain, or invite the person from Bastion.")
    elif ScimIdentity.objects.filter(user=user).exists():
        raise UniquenessException(detail="This account is already provisioned in this organisation.")
    identity = ScimIdentity(organisation=organisation, user=user, manages_account=created)
    _assign(identity, data)
    identity.save()
    _record(SCIM_USER_CREATED, identity, {"email": email, "external_id": identity.external_id,
                                            "active": identity.active})
    is_member = _org_grant(user.pk) is not None
    if identity.active and not is_member:
        _admit(principal, identity)
    elif not identity.active and is_member:
        deactivate(principal, identity)
    return identity


def update_user(principal: ScimPrincipal, identity: ScimIdentity, data: UserData) -> ScimIdentity:
    """Apply what a PUT or PATCH left of the user; (de)activate when ``active`` says so."""
    if ScimIdentity.objects.filter(user_name=data.user_name).exclude(id=identity.id).exists():
        raise UniquenessException(detail="This userName is taken in this organisation.")
    email = account_email(data)
    before = _summary(identity)
    _assign(identity, data)
    account_changes = {}
    if identity.manages_account and not _belongs_elsewhere(identity.user, principal.organisation):
        account_changes = _update_account(principal, identity.user, email, data.given_name, data.family_name)
    identity.save()
    changes = audit.diff(before, _summary(identity))
    if changes or account_changes:
        _record(SCIM_USER_UPDATED, identity, {**changes, **{f"account.{k}": v for k, v in account_changes.items()}})
    _apply_active(principal, identity, was_member=_org_grant(identity.user_id) is not None)
    return identity


def _update_account(principal: ScimPrincipal, user, email: str, given_name: str, family_name: str) -> dict:
    before = {"email": user.email, "first_name": user.first_name, "last_name": user.last_name}
    if (email, given_name, family_name) != (user.email, user.first_name, user.last_name):
        _check_may_manage(principal, user.pk)  # a new address is a way into the account
    if email != user.email:
        user_model = get_user_model()
        taken = (user_model.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()
                 or EmailAddress.objects.filter(email__iexact=email).exclude(user=user).exists())
        if taken:
            raise UniquenessException(detail="Another account has this email address.")
        EmailAddress.objects.filter(user=user).delete()
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
        user.email = user.username = email
    user.first_name, user.last_name = given_name, family_name
    after = {"email": user.email, "first_name": user.first_name, "last_name": user.last_name}
    changes = audit.diff(before, after)
    if changes:
        user.save(update_fields=["email", "username", "first_name", "last_name"])
    return changes


def _apply_active(principal: ScimPrincipal, identity: ScimIdentity, *, was_member: bool) -> None:
    wanted = identity.active is not False
    if wanted and not was_member:
        reactivate(principal, identity)
    elif not wanted and was_member:
        deactivate(principal, identity)


def deactivate(principal: ScimPrincipal, identity: ScimIdentity) -> None:
    organisation, user = principal.organisation, identity.user
    _check_may_manage(principal, user.pk)
    grants = list(Membership.objects.filter(user_id=user.pk).select_related("custom_role", "user"))
    organisation_grant = next((grant for grant in grants if grant.scope == "organisation"), None)
    for grant in [organisation_grant] if organisation_grant else grants:
        actions.remove_membership(grant, grantor_grants=principal.grantor_grants)  # the org-wide one takes the rest
    revoked = []
    for key in ApiKey.objects.filter(organisation_id=organisation.id, created_by_id=user.pk, revoked_at__isnull=True):
        api_keys.revoke(key)
        revoked.append(key.preview)
    ended = 0
    manages = _manages(identity, organisation)
    if manages:
        for session in UserSession.objects.filter(user_id=user.pk):
            session.end()
            ended += 1
    _record(SCIM_USER_DEACTIVATED, identity, {"memberships_removed": len(grants), "api_keys_revoked": revoked,
                                                "sessions_ended": ended})
    if manages and user.is_active and not _belongs_elsewhere(user, organisation):
        user.is_active, user.disabled_by = False, _disabler(organisation)
        user.save(update_fields=["is_active", "disabled_by"])
        _record_account(SCIM_ACCOUNT_DISABLED, user, organisation)


def _admit(principal: ScimPrincipal, identity: ScimIdentity) -> None:
    """An organisation-wide membership with the default role; the account enabled again only when
    this organisation's provider was the one that disabled it."""
    user = identity.user
    if _org_grant(user.pk) is None:
        actions.add_membership(principal.organisation, user=user, role=DEFAULT_ROLE,
                               grantor_grants=principal.grantor_grants)
    if not user.is_active and user.disabled_by == _disabler(principal.organisation):
        user.is_active, user.disabled_by = True, ""
        user.save(update_fields=["is_active", "disabled_by"])
        _record_account(SCIM_ACCOUNT_ENABLED, user, principal.organisation)


def _disabler(organisation: Organisation) -> str:
    return f"scim:{organisation.id}"


def reactivate(principal: ScimPrincipal, identity: ScimIdentity) -> None:
    _admit(principal, identity)
    _record(SCIM_USER_REACTIVATED, identity, {"role": DEFAULT_ROLE})


def delete_user(principal: ScimPrincipal, identity: ScimIdentity) -> None:
    """Deactivate (when still a member) and unlink: the SCIM id is gone, the account stays."""
    if _org_grant(identity.user_id) is not None:
        deactivate(principal, identity)
    ScimGroupMember.objects.filter(user_id=identity.user_id).delete()
    _record(SCIM_USER_DELETED, identity, {"external_id": identity.external_id})
    identity.delete()
