"""The rules: each looks at one new audit event, with the chain's earlier events, and says whether
it completes a pattern worth an alert (a ``Finding``).

Rules read only what events carry: actor, IP, user agent, action and payload (``changes``), as
``personal.Shown`` resolves them (format 2 keeps IPs, user agents and names outside the chain, and
counts by the pseudonyms inside it: the ``stored`` values). Counting
rules look back over a window ending at the event, so replaying the same events finds the same
first event and the same dedup key; an incident still open (an alert of the same rule and subject
whose last event is within the window) absorbs later events instead of raising again.
"""

from __future__ import annotations

import datetime
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from bastion.audit import personal
from bastion.audit.audit_actions import AUDIT_EXPORTED
from bastion.audit.models import AuditEvent
from bastion.audit.personal import Shown
from bastion.identity.audit_actions import (
    AUTH_LOGIN_FAILED,
    AUTH_LOGIN_REFUSED,
    AUTH_LOGIN_SUCCEEDED,
    SSO_CONFIGURED,
    SSO_REMOVED,
)
from bastion.operations.security_monitoring.networks import country_sized
from bastion.records.audit_actions import EVIDENCE_DOWNLOADED, RECORDS_EXPORTED
from bastion.tenancy.audit_actions import (
    API_KEY_ADDRESS_CHANGED,
    MEMBER_ADDED,
    MEMBER_ROLE_CHANGED,
    ORGANISATION_CREATED,
    ORGANISATION_UPDATED,
    ROLE_UPDATED,
)
from bastion.tenancy.models import Membership, Role
from bastion.tenancy.permissions import ADMIN_GRADE, BUILTIN_ROLES

SIGN_IN_FAILURES = (AUTH_LOGIN_FAILED, AUTH_LOGIN_REFUSED)
SIGN_IN_SUCCESS = AUTH_LOGIN_SUCCEEDED
EXPORTS = (RECORDS_EXPORTED, AUDIT_EXPORTED, EVIDENCE_DOWNLOADED)
API_KEY_ADDRESS_CHANGED = API_KEY_ADDRESS_CHANGED
MAX_LINKED_EVENTS = 200

# Rule names, shown in the console and the emails.
BRUTE_FORCE = "auth.brute_force"
PASSWORD_SPRAYING = "auth.password_spraying"
ADMIN_NEW_NETWORK_AND_DEVICE = "auth.admin_new_network_and_device"
EXPORT_BURST = "data.export_burst"
API_KEY_NEW_NETWORK = "api_key.new_network"
PRIVILEGE_GRANT = "access.privilege_granted"
MFA_POLICY_OFF = "policy.mfa_switched_off"
SSO_OFF = "policy.sso_switched_off"

TITLES = {
    BRUTE_FORCE: "Brute force on one account",
    PASSWORD_SPRAYING: "Password spraying from one network",
    ADMIN_NEW_NETWORK_AND_DEVICE: "Admin signed in from a new network on a new device",
    EXPORT_BURST: "Burst of exports or evidence downloads",
    API_KEY_NEW_NETWORK: "API key used from a new network",
    PRIVILEGE_GRANT: "Admin-grade role granted",
    MFA_POLICY_OFF: "MFA requirement switched off",
    SSO_OFF: "Single sign-on switched off",
}


class EventLink(Protocol):
    """What a finding keeps of an event: an ``AuditEvent`` row, or a reference to one in another chain."""

    @property
    def chain_id(self) -> uuid.UUID | str: ...
    @property
    def seq(self) -> int: ...
    @property
    def occurred_at(self) -> datetime.datetime: ...


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: str
    summary: str
    events: tuple[EventLink, ...]  # oldest first; the last is the event that completed the pattern
    window_seconds: int = 0  # > 0: later events of the same rule and subject within it are the same incident

    @property
    def dedup_key(self) -> str:
        first = self.events[0]
        return f"{self.rule}|{self.subject}|{first.chain_id}|{first.seq}"[:400]


class ChainHistory:
    """The earlier events of the chain being read, as the rules ask for them."""

    def __init__(self, chain_id: str, open_incident: Callable[[str, str, datetime.datetime, int], bool] | None = None):
        self.chain_id = chain_id
        self._open_incident = open_incident

    def open_incident(self, rule: str, subject: str, event: Shown, window_seconds: int) -> Finding | None:
        """While an incident of ``rule`` and ``subject`` is open, its next event joins it at once:
        an attack in progress costs one lookup per event, not a recount of the window."""
        if self._open_incident is None or not self._open_incident(rule, subject, event.occurred_at, window_seconds):
            return None
        return Finding(rule, subject, "", (event,), window_seconds)

    def before(self, event: Shown, *, actions=None, seconds: int | None = None, **filters) -> list[personal.Shown]:
        """Events (of ``actions``, or any) up to and including ``event``, within ``seconds`` before it
        (``BASTION_SECURITY_HISTORY_DAYS`` when not given), oldest first, as shown."""
        since = event.occurred_at - datetime.timedelta(seconds=seconds if seconds is not None
                                                       else settings.BASTION_SECURITY_HISTORY_DAYS * 86400)
        events = AuditEvent.objects.filter(chain_id=self.chain_id, seq__lte=event.seq, occurred_at__gte=since, **filters)
        if actions is not None:
            events = events.filter(action__in=actions)
        return personal.shown(list(events.order_by("seq")))


def stored(event) -> AuditEvent:
    """The event as the chain holds it (pseudonyms), behind a shown one."""
    return event.event if isinstance(event, personal.Shown) else event


def _capped(events) -> tuple[Shown, ...]:
    events = list(events)
    return tuple(events[:MAX_LINKED_EVENTS - 1] + events[-1:]) if len(events) > MAX_LINKED_EVENTS else tuple(events)


def brute_force(event: Shown, history: ChainHistory) -> Finding | None:
    username = (event.changes or {}).get("username")
    tried = (stored(event).changes or {}).get("username")
    if event.action not in SIGN_IN_FAILURES or not username:
        return None
    window = settings.BASTION_SECURITY_BRUTE_FORCE_WINDOW_SECONDS
    if joined := history.open_incident(BRUTE_FORCE, f"account {username}", event, window):
        return joined
    attempts = list(history.before(event, actions=SIGN_IN_FAILURES, seconds=window, changes__username=tried))
    if len(attempts) < settings.BASTION_SECURITY_BRUTE_FORCE_FAILURES:
        return None
    networks = sorted({country_sized(a.ip) or "unknown" for a in attempts})
    return Finding(BRUTE_FORCE, f"account {username}",
                   f"{len(attempts)} failed sign-ins at {username} within {window // 60} minutes, "
                   f"from {len(networks)} network(s): {', '.join(networks[:5])}", _capped(attempts), window)


def password_spraying(event: Shown, history: ChainHistory) -> Finding | None:
    network = country_sized(event.ip)
    if event.action not in SIGN_IN_FAILURES or network is None:
        return None
    window = settings.BASTION_SECURITY_SPRAY_WINDOW_SECONDS
    if joined := history.open_incident(PASSWORD_SPRAYING, f"network {network}", event, window):
        return joined
    attempts = [a for a in history.before(event, actions=SIGN_IN_FAILURES, seconds=window)
                if country_sized(a.ip) == network]
    per_account = Counter((stored(a).changes or {}).get("username", "") for a in attempts)
    few = {name for name, count in per_account.items()
           if name and count <= settings.BASTION_SECURITY_SPRAY_MAX_PER_ACCOUNT}
    if len(few) < settings.BASTION_SECURITY_SPRAY_ACCOUNTS:
        return None
    return Finding(PASSWORD_SPRAYING, f"network {network}",
                   f"{len(few)} accounts tried from {network} within {window // 60} minutes, "
                   f"each at most {settings.BASTION_SECURITY_SPRAY_MAX_PER_ACCOUNT} times",
                   _capped(a for a in attempts if (stored(a).changes or {}).get("username") in few), window)


def _admin_grade(permissions) -> bool:
    return bool(ADMIN_GRADE & set(permissions))


def _role_is_admin_grade(role_key: str | None) -> bool:
    if not role_key:
        return False
    if role_key in BUILTIN_ROLES:
        return _admin_grade(BUILTIN_ROLES[role_key])
    if role_key.startswith("custom:"):
        try:
            role = Role.objects.filter(id=uuid.UUID(role_key.removeprefix("custom:"))).first()
        except ValueError:
            return False
        return role is not None and _admin_grade(role.permissions)
    return False


def _is_admin(event) -> bool:
    """Whether the event's actor holds an admin-grade role in the organisation whose chain is read (now)."""
    user_id = event.actor_user_id if isinstance(event, personal.Shown) else personal.shown_one(event).actor_user_id
    if user_id is None:
        return False
    grants = Membership.objects.filter(user_id=user_id, workspace__isnull=True, project__isnull=True)
    return any(_admin_grade(grant.permissions()) for grant in grants.select_related("custom_role"))


def admin_new_network_and_device(event: Shown, history: ChainHistory) -> Finding | None:
    """An admin or owner signs in from a network *and* a browser never seen for them (either alone
    is ordinary: a laptop changes networks, a browser updates itself). A first sign-in is the baseline."""
    network = country_sized(event.ip)
    if event.action != SIGN_IN_SUCCESS or network is None or not _is_admin(event):
        return None
    earlier = [e for e in history.before(event, actions=[SIGN_IN_SUCCESS], actor_id=event.actor_id)
               if e.seq != event.seq]
    if not earlier:
        return None
    if any(country_sized(e.ip) == network for e in earlier) or any(e.user_agent == event.user_agent for e in earlier):
        return None
    return Finding(ADMIN_NEW_NETWORK_AND_DEVICE, f"user {event.actor_label}",
                   f"{event.actor_label}, who holds an admin-grade role, signed in from {network} "
                   f"({event.ip}) with a browser not seen for them in {settings.BASTION_SECURITY_HISTORY_DAYS} days: "
                   f"{event.user_agent[:120] or 'no user agent'}", (event,))


def export_burst(event: Shown, history: ChainHistory) -> Finding | None:
    if event.action not in EXPORTS or not event.actor_id:
        return None
    window = settings.BASTION_SECURITY_EXPORT_WINDOW_SECONDS
    who = f"{event.actor_type} {event.actor_label or event.actor_id}"
    if joined := history.open_incident(EXPORT_BURST, who, event, window):
        return joined
    burst = list(history.before(event, actions=EXPORTS, seconds=window, actor_type=event.actor_type,
                                actor_id=event.actor_id))
    if len(burst) < settings.BASTION_SECURITY_EXPORT_BURST:
        return None
    kinds = Counter(e.action for e in burst)
    return Finding(EXPORT_BURST, who,
                   f"{len(burst)} exports or evidence downloads by {who} within {window // 60} minutes ("
                   + ", ".join(f"{count} {action}" for action, count in sorted(kinds.items())) + ")",
                   _capped(burst), window)


def api_key_new_network(event: Shown, history: ChainHistory) -> Finding | None:
    """An API key's use from a network it never used before (its first use is the baseline). Audited
    operations carry the key and the address; a key that only reads is seen through
    ``api_key.address_changed``, recorded at most once a minute when its address changes."""
    network = country_sized(event.ip)
    if event.actor_type != "api_key" or not event.actor_id or network is None:
        return None
    earlier = [e for e in history.before(event, actor_type="api_key", actor_id=event.actor_id) if e.seq != event.seq]
    earlier_networks = {country_sized(e.ip) for e in earlier}
    if event.action == API_KEY_ADDRESS_CHANGED:  # a key that only reads: its address before this one
        earlier_networks.add(country_sized((event.changes or {}).get("previous_ip")))
    earlier_networks.discard(None)
    if not earlier_networks or network in earlier_networks:
        return None
    return Finding(API_KEY_NEW_NETWORK, f"api key {event.actor_label} ({event.actor_id}) from {network}",
                   f"API key {event.actor_label} ({event.actor_id}) was used from {network} ({event.ip}), a network "
                   f"it had not used in {settings.BASTION_SECURITY_HISTORY_DAYS} days ({event.action})", (event,))


def privilege_grant(event: Shown, history: ChainHistory) -> Finding | None:
    changes = event.changes or {}
    granted = before = None
    if event.action == MEMBER_ADDED:
        granted = changes.get("role")
        if _founding_grant(event):
            return None
    elif event.action == MEMBER_ROLE_CHANGED and isinstance(changes.get("role"), list) and len(changes["role"]) == 2:
        before, granted = changes["role"]
    elif event.action == ROLE_UPDATED and isinstance(changes.get("permissions"), list):
        old, new = changes["permissions"]
        gained = sorted(ADMIN_GRADE & (set(new) - set(old)))
        # The role's id as the event names it (text): Django's UUID lookup takes it as it is.
        if gained and Membership.objects.filter(custom_role_id=event.resource_id).exists():  # type: ignore[misc]
            return Finding(PRIVILEGE_GRANT, f"role {event.resource_id}",
                           f"A custom role held by members gained admin-grade permissions ({', '.join(gained)}), "
                           f"changed by {event.actor_label or event.actor_type}", (event,))
        return None
    if isinstance(changes.get("admin_grade"), bool):  # as recorded when granted (member.added)
        now_admin, was_admin = changes["admin_grade"], False
    elif isinstance(changes.get("admin_grade"), list):  # member.role_changed: [before, after]
        was_admin, now_admin = changes["admin_grade"]
    else:  # events from before the payload said so: the roles as they are now
        now_admin, was_admin = _role_is_admin_grade(granted), _role_is_admin_grade(before)
    if not isinstance(granted, str) or not now_admin or was_admin:
        return None
    who = changes.get("user") or event.resource_id
    return Finding(PRIVILEGE_GRANT, f"member {who}",
                   f"{who} was granted the admin-grade role {granted} by {event.actor_label or event.actor_type}",
                   (event,))


def _founding_grant(event: Shown) -> bool:
    """The founder's owner grant, recorded with the organisation itself."""
    return AuditEvent.objects.filter(chain_id=event.chain_id, seq=event.seq - 1, action=ORGANISATION_CREATED,
                                     request_id=event.request_id).exists()


def policy_switched_off(event: Shown, history: ChainHistory) -> Finding | None:
    changes = event.changes or {}
    by = event.actor_label or event.actor_type
    if event.action == ORGANISATION_UPDATED and changes.get("mfa_required") == [True, False]:
        return Finding(MFA_POLICY_OFF, "organisation", f"The requirement that every member use a second factor "
                                                       f"was switched off by {by}", (event,))
    if event.action == SSO_CONFIGURED and changes.get("enabled") is False and changes.get("previously_enabled"):
        return Finding(SSO_OFF, "organisation", f"Single sign-on was disabled by {by}", (event,))
    if event.action == SSO_REMOVED and changes.get("enabled", True):
        return Finding(SSO_OFF, "organisation", f"The single sign-on connection was removed by {by}", (event,))
    return None


Rule = Callable[[Shown, ChainHistory], Finding | None]
RULES: tuple[Rule, ...] = (brute_force, password_spraying, admin_new_network_and_device, export_burst,
                           api_key_new_network, privilege_grant, policy_switched_off)
