"""Erasure of a person (Art. 17): one idempotent service, ``erase_person``.

It is written so that a later erasure ledger (issue 17 part 5) can replay it after a restore:
it takes only the user's id, running it again on an erased person erases nothing new, and its
answer (``ErasureResult``) lists what was erased and what was kept, and why (Art. 17(3)).

What it does, in order: refuse while the person is an organisation's sole owner (they hand over
ownership first); suspend entirely while a legal hold covers them in any organisation; otherwise
end their memberships through ``tenancy.actions`` (audited in each organisation's chain),
revoke the API keys they made, delete their sessions, second factors, email addresses, social
logins, known devices, lockout counters, invitations, SCIM identities and data exports, and
replace the account's own personal fields. The account row stays (disabled, anonymous) so that
the foreign keys of what the organisations keep still resolve.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.audit import personal as audit_personal
from bastion.crypto.models import ApiKey
from bastion.identity.models import Invitation, KnownClient, ScimGroupMember, ScimIdentity, SignInThrottle
from bastion.privacy import holds, ledger, personal_export, signals
from bastion.privacy.audit_actions import ERASURE_SUSPENDED, PERSON_ERASED
from bastion.privacy.models import PersonalExport, SubjectRequest
from bastion.privacy.people import grants_by_organisation
from bastion.tenancy import actions, api_keys, context
from bastion.tenancy.models import Membership, Organisation

ERASED_DOMAIN = "erased.invalid"
# What Bastion keeps about an erased person, and under which duty (docs/privacy.md).
KEPT_ALWAYS = [
    ("audit events where the person acted, in each organisation's hash chain, under a pseudonym that no "
     "longer names anyone (events written before format bastion-audit/2 keep the address they recorded)",
     "Art. 17(3)(b) and (e): the audit log is kept 7 years as evidence of who changed business records; "
     "removing an event would break the chain"),
    ("records, suppliers and evidence the person created (now attributed to nobody)",
     "they belong to the organisation, which keeps them under its own retention duty (accounting, 7 years)"),
]


@dataclasses.dataclass(frozen=True)
class Item:
    what: str
    count: int = 0
    why: str = ""


@dataclasses.dataclass
class ErasureResult:
    user_id: int
    erased: list[Item] = dataclasses.field(default_factory=list)
    kept: list[Item] = dataclasses.field(default_factory=list)
    suspended: bool = False
    already_erased: bool = False

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class SoleOwner(Exception):
    """The person is the only owner of these organisations: ownership is handed over first."""

    def __init__(self, slugs: list[str]):
        self.slugs = slugs
        super().__init__(f"sole owner of {', '.join(slugs)}: hand over ownership before deleting the account")


def is_erased(user) -> bool:
    return user.email.endswith(f"@{ERASED_DOMAIN}")


def sole_ownerships(user_id) -> list[str]:
    slugs = []
    for organisation, grants in grants_by_organisation(user_id).items():
        if not any(g.scope == "organisation" and g.builtin_role == "owner" for g in grants):
            continue
        with context.tenant_context(organisation.id):
            owners = Membership.objects.filter(workspace__isnull=True, project__isnull=True, builtin_role="owner").count()
        if owners == 1:
            slugs.append(organisation.slug)
    return sorted(slugs)


def holds_covering(user_id) -> list[tuple[Organisation, holds.LegalHold]]:
    covering = []
    for organisation in grants_by_organisation(user_id):
        with context.tenant_context(organisation.id):
            # Read again inside the organisation: row-level security shows its projects only there.
            grants = list(Membership.objects.filter(user_id=user_id).select_related("project"))
            hold = holds.covering_member(holds.active(organisation.id), grants)
        if hold is not None:
            covering.append((organisation, hold))
    return covering


def _nothing(stage: str, done: int, total: int) -> None:
    pass


def erase_person(user_id, *, now: datetime.datetime | None = None,
                 progress: Callable[[str, int, int], None] = _nothing,
                 replaying: ledger.Entry | None = None) -> ErasureResult:
    """``replaying``: the erasure ledger's entry for an erasure already decided and carried out once
    (``ledger.replay`` after a restore): no new entry, and a legal hold of the older copy does not
    suspend it (no erasure is recorded while a hold covers the person)."""
    now = now or timezone.now()
    result = ErasureResult(user_id=user_id, kept=[Item(what, why=why) for what, why in KEPT_ALWAYS])
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or is_erased(user):
        result.already_erased = True
        return result
    sole = sole_ownerships(user_id)
    if sole:
        raise SoleOwner(sole)
    covering = holds_covering(user_id) if replaying is None else []
    if covering:
        result.suspended = True
        result.kept = [Item(f"everything about the person in organisation {org.slug}",
                            why=f"Art. 17(3)(e), suspended by {hold.describe()}") for org, hold in covering]
        with transaction.atomic():
            audit.record(ERASURE_SUSPENDED, resource_type="user", resource_id=user_id,
                         changes={"holds": [str(hold.id) for _, hold in covering]})
        return result

    # Written ahead, durably, before anything is erased: a crash from here on leaves an entry this
    # database has not applied, which the next start replays (``ledger`` module's doc).
    entry = replaying or ledger.append(ledger.PERSON_ERASED, user_id, now)
    stages = ["organisations", "sessions", "account"]
    # Every organisation, not only the person's own: another may hold an invitation to their address,
    # or keys and SCIM identities left from a membership that has ended.
    with context.platform_scope():
        organisations = list(Organisation.objects.order_by("slug"))
    progress("organisations", 0, len(organisations))
    for done, organisation in enumerate(organisations, 1):
        _erase_in_organisation(organisation, user, result)
        progress("organisations", done, len(organisations))
    progress("sessions", 0, 1)
    _erase_platform_rows(user, result)
    progress("sessions", 1, 1)
    addresses = [user.email]
    with transaction.atomic():
        _anonymise_account(user)
        result.erased.append(Item("the account's email, name and password (the account is disabled)", 1))
        audit.record(PERSON_ERASED, resource_type="user", resource_id=user_id,
                     changes={"erased": [i.what for i in result.erased if i.count],
                              "kept": [i.what for i in result.kept]})
        # Last, after every event that names them: their pseudonyms and the details kept beside the chains.
        forgotten = audit_personal.forget(user.pk, addresses)
        ledger.mark_applied(entry)
    result.erased.append(Item("who the person is in the audit log: their pseudonyms, and the email, name, "
                              "address and browser kept beside the events", forgotten))
    progress(stages[-1], 1, 1)
    return result


def _erase_in_organisation(organisation: Organisation, user, result: ErasureResult) -> None:
    with context.tenant_context(organisation.id):
        grants = list(Membership.objects.filter(user_id=user.pk).select_related("user"))
        organisation_wide = next((g for g in grants if g.scope == "organisation"), None)
        if organisation_wide is not None:
            actions.remove_membership(organisation_wide)  # ends the lower grants too
        else:
            for grant in grants:
                actions.remove_membership(grant)
        if grants:
            result.erased.append(Item(f"memberships in organisation {organisation.slug}", len(grants)))
        keys = list(ApiKey.objects.filter(organisation_id=organisation.id, created_by_id=user.pk))
        for key in keys:
            api_keys.revoke(key)
        ApiKey.objects.filter(organisation_id=organisation.id, created_by_id=user.pk).update(
            created_by_label="(erased person)", last_used_ip="")
        if keys:
            result.erased.append(Item(f"API keys made in organisation {organisation.slug} (revoked, creator erased)",
                                      len(keys)))
        for model, label in ((ScimIdentity, "SCIM identities"), (ScimGroupMember, "SCIM group memberships")):
            count, _ = model.objects.filter(user_id=user.pk).delete()
            if count:
                result.erased.append(Item(f"{label} in organisation {organisation.slug}", count))
        count, _ = Invitation.objects.filter(email__iexact=user.email).delete()
        Invitation.objects.filter(invited_by_id=user.pk).update(invited_by=None)
        if count:
            result.erased.append(Item(f"invitations in organisation {organisation.slug}", count))


def _erase_platform_rows(user, result: ErasureResult) -> None:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount
    from allauth.usersessions.models import UserSession

    with transaction.atomic():
        sessions = list(UserSession.objects.filter(user=user))
        for session in sessions:
            session.end()  # deletes the Django session with it
        counted = [("sessions and their sign-in history (address, browser)", len(sessions))]
        UserSession.objects.filter(user=user).delete()
        for label, queryset in (
            ("second factors (authenticators)", Authenticator.objects.filter(user=user)),
            ("email addresses", EmailAddress.objects.filter(user=user)),
            ("single sign-on identities", SocialAccount.objects.filter(user=user)),
            ("known devices", KnownClient.objects.filter(user=user)),
            ("sign-in failure counters", SignInThrottle.objects.filter(
                key=f"account:{hashlib.sha256(user.email.strip().lower().encode()).hexdigest()}")),
        ):
            counted.append((label, queryset.count()))
            queryset.delete()
        exports = list(PersonalExport.objects.filter(user=user))
        personal_export.delete_artifacts_of(user)
        PersonalExport.objects.filter(user=user).delete()
        counted.append(("data exports", len(exports)))
        requests = SubjectRequest.objects.filter(Q(user=user) | Q(requester_email__iexact=user.email)).update(
            requester_email=f"erased-{user.pk}@{ERASED_DOMAIN}")
        counted.append(("the requester's address on data-subject requests", requests))
        for _receiver, erased in signals.erasing_person.send(sender=None, user=user, addresses=[user.email]):
            counted.extend(erased or [])  # type: ignore[arg-type]  # receivers return [(what, count), …]
    result.erased.extend(Item(label, count) for label, count in counted if count)


def _anonymise_account(user) -> None:
    user.email = user.username = f"erased-{user.pk}@{ERASED_DOMAIN}"
    user.first_name = user.last_name = ""
    user.set_unusable_password()
    user.is_active = False
    user.disabled_by = "privacy:erased"
    user.access_version += 1
    user.save()
