"""People in the audit log (format version 2): per-chain pseudonyms, and the personal details kept
outside the chain.

An event names a person only by a pseudonym of its chain (random, ``psn_`` and 20 hex digits), in
the actor's id and wherever their address appears in ``changes``. What the console, the API, the
export and the security rules show — the email, name, IP and user agent — is kept per event and
person in ``PersonalDetails``, and the event hashes only ``personal_digest(salt, details)`` of it.

Erasing a person (``forget``) deletes their pseudonyms and their details: their events still verify
(the digests are in the chain, the salts are gone with the details) and resolve to "erased person".

Why a side table rather than details encrypted under a per-person key: the security rules query
details (an account's failures, an admin's earlier networks) event by event, and pruning and erasure
are then plain deletes of mutable rows, with nothing to re-key; the side table is what is erased.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from bastion.audit.context import Actor
from bastion.audit.format import FORMAT_V2, personal_digest
from bastion.audit.models import AuditEvent, PersonalDetails, Pseudonym
from bastion.db import rls

ERASED = "erased person"
PERSON_ACTORS = frozenset({"user", "staff"})
# Keys under which ``changes`` holds an account name (pseudonymised even when not shaped like an
# address), a person's name, or a network address (moved to the details, a placeholder left).
ACCOUNT_KEYS = frozenset({"username", "email", "user"})
NAME_KEYS = frozenset({"first_name", "last_name", "name", "full_name", "given_name", "family_name"})
ADDRESS_KEYS = frozenset({"ip", "previous_ip", "last_used_ip", "user_agent"})
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
PSEUDONYM = re.compile(r"psn_[0-9a-f]{20}")
PLACEHOLDER = re.compile(r"\[personal (psn_[0-9a-f]{20}|-) (\d+)\]")


def _address_sha256(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def existing_pseudonym(chain: str, user_id: int) -> QuerySet[Pseudonym, Any]:
    """The user's pseudonym in ``chain`` if they have one yet (a query, so that a caller can fold it
    into a statement of its own)."""
    return Pseudonym.objects.filter(chain_id=chain, user_id=user_id).values("pseudonym")[:1]


def pseudonym_of(chain: str, *, user_id: int | None = None, address: str | None = None,
                 before_creating: Callable[[], object] | None = None) -> str:
    """The person's pseudonym in ``chain``, made on first use. An address is the account that has
    it when there is one, else a pseudonym of its own (a sign-in tried on an unknown address)."""
    if user_id is None and address:
        user_id = _user_of_address(address)
    return _pseudonym(chain, user_id, address, before_creating)


def _user_of_address(address: str) -> int | None:
    return get_user_model().objects.filter(email__iexact=address.strip()).values_list("pk", flat=True).first()


def _pseudonym(chain: str, user_id: int | None, address: str | None,
               before_creating: Callable[[], object] | None = None) -> str:
    key: dict[str, Any] = {"user_id": user_id} if user_id is not None else {"address_sha256": _address_sha256(address or "")}
    existing = Pseudonym.objects.filter(chain_id=chain, **key).values_list("pseudonym", flat=True).first()
    if existing:
        return existing
    if before_creating is not None:
        before_creating()
    try:
        with transaction.atomic():
            Pseudonym.objects.create(chain_id=chain, pseudonym=f"psn_{secrets.token_hex(10)}", **key)
    except IntegrityError:  # made meanwhile by another transaction (appends to one chain serialise anyway)
        pass
    return Pseudonym.objects.get(chain_id=chain, **key).pseudonym


class _Splitter:
    """Takes the personal details out of one event, leaving pseudonyms and placeholders."""

    def __init__(self, chain: str, before_creating: Callable[[], object] | None) -> None:
        self.chain, self.before_creating = chain, before_creating
        self.people: dict[str, dict[str, Any]] = {}
        # One event names the same person several times (actor, subject, the address tried):
        # each account and each address is looked up once per event.
        self._users_of: dict[str, int | None] = {}
        self._pseudonyms: dict[tuple[int | None, str | None], str] = {}

    def person(self, *, user_id: int | None = None, address: str | None = None) -> str:
        if user_id is None and address:
            if address not in self._users_of:
                self._users_of[address] = _user_of_address(address)
            user_id = self._users_of[address]
        slot = (user_id, None if user_id is not None else address)
        if slot not in self._pseudonyms:
            self._pseudonyms[slot] = _pseudonym(self.chain, user_id, address, self.before_creating)
        pseudonym = self._pseudonyms[slot]
        self.people.setdefault(pseudonym, {})
        return pseudonym

    def keep(self, owner: str, value: Any) -> str:
        """Move ``value`` to ``owner``'s details (``""``: of no person); the placeholder to leave."""
        values = self.people.setdefault(owner, {}).setdefault("values", [])
        values.append(value)
        return f"[personal {owner or '-'} {len(values) - 1}]"

    def address(self, text: str) -> str:
        pseudonym = self.person(address=text)
        addresses = self.people[pseudonym].setdefault("addresses", [])
        if text not in addresses:
            addresses.append(text)
        return pseudonym

    def walk(self, value: Any, key: str, owner: str) -> Any:
        if isinstance(value, dict):
            return {k: self.walk(v, k, owner) for k, v in value.items()}
        if isinstance(value, list):
            return [self.walk(v, key, owner) for v in value]
        if not isinstance(value, str) or not value:
            return value
        if key in NAME_KEYS or key in ADDRESS_KEYS:
            return self.keep(owner, value)
        if key in ACCOUNT_KEYS and not EMAIL.search(value):
            return self.address(value)
        return EMAIL.sub(lambda match: self.address(match.group(0)), value)


def split(chain: str, actor: Actor, ip: str | None, user_agent: str, changes: dict[str, Any], resource_type: str,
          resource_id: str, *, before_creating: Callable[[], object] | None = None
          ) -> tuple[str, str, dict[str, Any], dict[str, dict[str, Any]]]:
    """(actor id, actor label, changes, details per pseudonym) of a new event; ``before_creating`` is
    called before a pseudonym is made (the append takes the chain's head lock there)."""
    splitter = _Splitter(chain, before_creating)
    actor_id, actor_label, owner = actor.id, actor.label, ""
    if actor.type in PERSON_ACTORS and str(actor.id).isdigit():
        owner = splitter.person(user_id=int(actor.id))
        splitter.people[owner]["label"] = actor.label
        actor_id, actor_label = owner, ""
    elif actor.type == "anonymous" and actor.label:
        owner = splitter.address(actor.label)
        splitter.people[owner]["label"] = actor.label
        actor_id, actor_label = owner, ""
    if ip or user_agent:
        splitter.people.setdefault(owner, {}).update({"ip": ip, "user_agent": user_agent})
    subject = owner
    if resource_type == "user" and str(resource_id).isdigit():
        subject = splitter.person(user_id=int(resource_id))
    changes = splitter.walk(changes, "", subject)
    return str(actor_id), actor_label, changes, {p: d for p, d in splitter.people.items() if d or p}


def store(chain: str, seq: int, people: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Save each person's details of event ``seq``; their digests, as the event hashes them."""
    digests, rows = salted(chain, people)
    save(seq, rows)
    return digests


def salted(chain: str, people: dict[str, dict[str, Any]]) -> tuple[dict[str, str], list[PersonalDetails]]:
    """Each person's details with a fresh salt: their digests (as the event hashes them) and the rows
    to save once the event's sequence number is known (``save``)."""
    digests, rows = {}, []
    for pseudonym, details in sorted(people.items()):
        salt = secrets.token_bytes(32)
        digests[pseudonym] = personal_digest(salt, details)
        rows.append(PersonalDetails(chain_id=chain, seq=0, pseudonym=pseudonym, details=details, salt=salt.hex()))
    return digests, rows


def save(seq: int, rows: list[PersonalDetails]) -> None:
    for row in rows:
        row.seq = seq
    if rows:
        PersonalDetails.objects.bulk_create(rows)


class Shown:
    """An event as people read it: pseudonyms resolved while their details exist, "erased person"
    after; everything else is the event's own (``shown.seq``, ``shown.action`` …)."""

    def __init__(self, event: AuditEvent, details: dict[str, PersonalDetails], users: dict[str, int]) -> None:
        self.event = event
        self.details = details
        self.v2 = event.format == FORMAT_V2
        self._users = users

    def __getattr__(self, name: str) -> Any:
        return getattr(self.event, name)

    def _of(self, pseudonym: str) -> dict[str, Any] | None:
        row = self.details.get(pseudonym)
        return row.details if row is not None else None

    def label_of(self, pseudonym: str) -> str:
        details = self._of(pseudonym)
        if details is None:
            return ERASED
        return str(details.get("label") or next(iter(details.get("addresses") or []), "") or ERASED)

    @property
    def actor_label(self) -> str:
        if not self.v2 or not PSEUDONYM.fullmatch(self.event.actor_id or ""):
            return self.event.actor_label
        return self.label_of(self.event.actor_id)

    def _own(self) -> dict[str, Any]:
        owner = self.event.actor_id if PSEUDONYM.fullmatch(self.event.actor_id or "") else ""
        return self._of(owner) or {}

    @property
    def ip(self) -> str | None:
        return self._own().get("ip") if self.v2 else self.event.ip

    @property
    def user_agent(self) -> str:
        return str(self._own().get("user_agent") or "") if self.v2 else self.event.user_agent

    @property
    def actor_user_id(self) -> int | None:
        """The account behind a person actor, while it is known."""
        if not self.v2:
            return int(self.event.actor_id) if str(self.event.actor_id).isdigit() else None
        return self._users.get(self.event.actor_id)

    @property
    def changes(self) -> Any:
        return self.resolve(self.event.changes) if self.v2 else self.event.changes

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, str):
            return value
        placeholder = PLACEHOLDER.fullmatch(value)
        if placeholder:
            owner, index = placeholder.group(1), int(placeholder.group(2))
            values = (self._of("" if owner == "-" else owner) or {}).get("values") or []
            return values[index] if index < len(values) else ERASED
        return PSEUDONYM.sub(lambda match: self.label_of(match.group(0)), value)


def shown(events: Sequence[AuditEvent]) -> list[Shown]:
    """``events`` as people read them (two queries per chain, whatever their number)."""
    by_chain: dict[str, list[int]] = {}
    for event in events:
        if event.format == FORMAT_V2:
            by_chain.setdefault(str(event.chain_id), []).append(event.seq)
    details: dict[tuple[str, int], dict[str, PersonalDetails]] = {}
    users: dict[str, int] = {}
    for chain, seqs in by_chain.items():
        for row in PersonalDetails.objects.filter(chain_id=chain, seq__in=seqs):
            details.setdefault((chain, row.seq), {})[row.pseudonym] = row
        actors = {e.actor_id for e in events if str(e.chain_id) == chain and PSEUDONYM.fullmatch(e.actor_id or "")}
        for pseudonym, user_id in Pseudonym.objects.filter(chain_id=chain, pseudonym__in=actors).values_list(
                "pseudonym", "user_id"):
            if user_id is not None:
                users[pseudonym] = user_id
    return [Shown(e, details.get((str(e.chain_id), e.seq), {}), users) for e in events]


def shown_one(event: AuditEvent) -> Shown:
    return shown([event])[0]


def pseudonyms_of_user(chain: str, user_id: int) -> list[str]:
    return list(Pseudonym.objects.filter(chain_id=chain, user_id=user_id).values_list("pseudonym", flat=True))


def details_problem(seq: int, digests: dict[str, str] | None, rows: Iterable[PersonalDetails]) -> str | None:
    """Whether the details kept for event ``seq`` still match the digests it hashed (when they exist)."""
    digests = digests or {}
    for row in rows:
        if digests.get(row.pseudonym) != personal_digest(bytes.fromhex(row.salt), row.details):
            return f"sequence {seq}: the personal details kept for it do not match its digest (details altered)"
    return None


def forget(user_id: int, addresses: Iterable[str] = ()) -> int:
    """Erase a person from every chain: their pseudonyms and every detail kept under them (in platform
    scope, inside the caller's transaction). Their events keep verifying and name nobody. The count
    of details deleted."""
    hashes = [_address_sha256(a) for a in addresses if a]
    with rls.setting("bastion.scope", "platform"):
        mappings = Pseudonym.objects.filter(user_id=user_id) | Pseudonym.objects.filter(address_sha256__in=hashes)
        pseudonyms = list(mappings.values_list("pseudonym", flat=True))
        deleted, _ = PersonalDetails.objects.filter(pseudonym__in=pseudonyms).delete()
        Pseudonym.objects.filter(pseudonym__in=pseudonyms).delete()
    return deleted


def acted_by(chain: uuid.UUID | str, user_id: int) -> list[dict[str, Any]]:
    """The events of ``chain`` where the account acted (by its id in format 1, its pseudonym in 2), as
    shown, for the person's own data export (Art. 15)."""
    chain = str(chain)
    ids = [str(user_id), *pseudonyms_of_user(chain, user_id)]
    events = AuditEvent.objects.filter(chain_id=chain, actor_id__in=ids, actor_type__in=PERSON_ACTORS).order_by("seq")
    return [{"occurred_at": e.occurred_at, "action": e.action, "ip": e.ip, "user_agent": e.user_agent,
             "resource_type": e.resource_type, "resource_id": e.resource_id, "changes": e.changes}
            for e in shown(list(events))]
