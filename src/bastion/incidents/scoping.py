"""Breach scoping: given what was compromised — a user account, an API key, a SCIM token, a staff
grant, or an IP address or network — and a time window, list every organisation, resource and
record it read or changed, from the audit log (each organisation's chain, read in its own tenant
context) and the read-access log, with counts by data category and an approximate number of data
subjects. The result is saved with the incident as evidence, with the SHA-256 of its canonical
form: the logs are append-only and the window is closed, so re-running gives the same digest.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import Resolver404, resolve
from django.utils import timezone

from bastion.access_log.models import AccessBatch
from bastion.audit import chain as audit
from bastion.audit import personal
from bastion.audit.audit_actions import AUDIT_EXPORTED
from bastion.audit.models import AuditEvent
from bastion.identity.models import User
from bastion.incidents.audit_actions import BREACH_SCOPED
from bastion.incidents.models import Incident, ScopingResult
from bastion.privacy.audit_actions import ORGANISATION_EXPORTED
from bastion.records.audit_actions import EVIDENCE_DOWNLOADED, RECORDS_EXPORTED
from bastion.support_access.audit_actions import GRANT_USED
from bastion.tenancy.audit_actions import ARTIFACT_CONSUMED, CREDENTIAL_USED
from bastion.tenancy.context import platform_scope, tenant_context
from bastion.tenancy.models import Organisation

Clock = Callable[[], datetime.datetime]
KINDS = ("user", "api_key", "scim_token", "staff_grant", "network")
# Events that read data out (everything else an actor did to a resource changed it).
READ_ACTIONS = frozenset({EVIDENCE_DOWNLOADED, RECORDS_EXPORTED, AUDIT_EXPORTED, CREDENTIAL_USED, ARTIFACT_CONSUMED,
                          ORGANISATION_EXPORTED})
# What each kind of resource holds, as the data inventory names it; those marked personal hold
# data about people (a supplier's contact, a member), and each one counts as a data subject.
CATEGORIES: dict[str, tuple[str, bool]] = {
    "emission_record": ("emissions records", False),
    "energy_record": ("energy records", False),
    "supplier": ("supplier records (with a contact person)", True),
    "evidence": ("evidence files", False),
    "credential": ("stored credentials", False),
    "user": ("member accounts", True),
    "member": ("member accounts", True),
    "organisation": ("organisation data", False),
    "project": ("projects (their record lists or exports)", False),
    "workspace": ("workspaces", False),
    "audit_log": ("audit log", True),
}


@dataclass(frozen=True)
class Subject:
    kind: str
    value: str  # user id or email, API key id, SCIM token id, staff grant id, address or network


def _canonical(result: dict[str, Any]) -> bytes:
    return json.dumps(result, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _user(subject: Subject) -> User:
    wanted = Q(pk=int(subject.value)) if subject.value.isdigit() else Q(email__iexact=subject.value)
    user = User.objects.filter(wanted).first()
    if user is None:
        raise ValidationError({"subject": ValidationError("No account has that id or email.", code="invalid")})
    return user


@dataclass(frozen=True)
class Person:
    """A user subject as one chain knows them: their account id and their pseudonyms there."""

    user_id: str
    pseudonyms: list[str]


def _matcher(subject: Subject, person: Person | None) -> tuple[Q | None, Callable[[Any], bool] | None]:
    """A database filter for the subject's events in a chain, or a test on each shown event."""
    if person is not None:
        return Q(actor_id__in=person.pseudonyms) | Q(actor_type__in=personal.PERSON_ACTORS,
                                                     actor_id=person.user_id), None
    if subject.kind == "api_key":
        return Q(actor_type="api_key", actor_id=subject.value), None
    if subject.kind == "scim_token":
        return Q(actor_type="scim", actor_id=subject.value), None
    if subject.kind == "staff_grant":
        return Q(action=GRANT_USED, resource_id=subject.value), None
    network = ipaddress.ip_network(subject.value, strict=False)
    return None, lambda shown: bool(shown.ip) and _in(shown.ip, network)


def _in(address: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(address) in network
    except ValueError:
        return False


def _check(subject: Subject, start: datetime.datetime, end: datetime.datetime, now: datetime.datetime) -> None:
    errors = {}
    if subject.kind not in KINDS:
        errors["kind"] = ValidationError(f"What was compromised: one of {', '.join(KINDS)}.", code="invalid")
    elif subject.kind == "network":
        try:
            ipaddress.ip_network(subject.value, strict=False)
        except ValueError:
            errors["subject"] = ValidationError("An IP address or network (e.g. 203.0.113.0/24).", code="invalid")
    elif not subject.value.strip():
        errors["subject"] = ValidationError("Say which one was compromised.", code="required")
    if not start < end:
        errors["window"] = ValidationError("The window must end after it starts.", code="invalid")
    elif end > now:
        errors["window"] = ValidationError("Scope a window that has ended, so that re-running gives the same answer.",
                                           code="invalid")
    if errors:
        raise ValidationError(errors)


def _events(subject: Subject, person: Person | None, chain: str, start: datetime.datetime,
            end: datetime.datetime) -> list[Any]:
    query, test = _matcher(subject, person)
    events = AuditEvent.objects.filter(chain_id=chain, occurred_at__gte=start, occurred_at__lt=end)
    if query is not None:
        events = events.filter(query)
    shown = personal.shown(list(events.order_by("seq")))
    return [event for event in shown if test is None or test(event)]


def _organisation_result(organisation: Organisation, events: Iterable[Any],
                         reads: Iterable[tuple[str, str]]) -> dict[str, Any] | None:
    """Counts for one organisation, from its audit events and its read-access entries ((type, id) pairs)."""
    touched: dict[tuple[str, str], set[str]] = defaultdict(set)
    actions: Counter[str] = Counter()
    for event in events:
        actions[event.action] += 1
        resource, access = _resource_of(event)
        if resource is not None:
            touched[resource].add(access)
    for resource_type, resource_id in reads:
        touched[(resource_type, resource_id)].add("read")
    if not actions and not touched:
        return None
    categories: Counter[str] = Counter()
    subjects = 0
    for resource_type, _ in touched:
        name, holds_people = CATEGORIES.get(resource_type, (resource_type.replace("_", " "), False))
        categories[name] += 1
        subjects += holds_people
    resources = [{"type": t, "id": i, "access": sorted(how)} for (t, i), how in sorted(touched.items())]
    return {
        "id": str(organisation.id), "slug": organisation.slug, "name": organisation.name,
        "events": sum(actions.values()), "actions": dict(sorted(actions.items())),
        "reads": sum(1 for r in resources if "read" in r["access"]),
        "changes": sum(1 for r in resources if "changed" in r["access"]),
        "records": len(resources), "data_subjects": subjects, "categories": dict(sorted(categories.items())),
        "resources": resources,
    }


# A path parameter of a page or API operation, and the kind of resource it names (most specific first).
PATH_RESOURCES = [("evidence_id", "evidence"), ("emission_id", "emission_record"), ("energy_id", "energy_record"),
                  ("supplier_id", "supplier"), ("credential_id", "credential"), ("project_id", "project"),
                  ("workspace_id", "workspace")]


def _resource_of(event: Any) -> tuple[tuple[str, str] | None, str]:
    """What an event touched, and how ("read" or "changed"). A request made under a staff grant is
    recorded with its method and path: the path names the record or file (resolved through the URL
    map), the method says whether it changed anything; a refused request touched nothing."""
    if event.action != GRANT_USED:
        if not event.resource_type:
            return None, ""
        return (event.resource_type, str(event.resource_id)), "read" if event.action in READ_ACTIONS else "changed"
    changes = event.changes
    if not isinstance(changes.get("status"), int) or changes["status"] >= 400:
        return None, ""
    try:
        kwargs = resolve(str(changes.get("path", ""))).kwargs
    except Resolver404:
        return None, ""
    access = "read" if changes.get("method") in ("GET", "HEAD") else "changed"
    for name, resource_type in PATH_RESOURCES:
        if name in kwargs:
            return (resource_type, str(kwargs[name])), access
    return ("organisation", str(event.chain_id)), access


# The read-access log's names for resources the audit log names otherwise.
READ_LOG_TYPES = {"evidence_file": "evidence"}


def _read_log(subject: Subject, person: Person | None, organisation: Organisation, start: datetime.datetime,
              end: datetime.datetime) -> list[tuple[str, str]]:
    """What the subject viewed or downloaded, from the organisation's read-access log (it keeps no
    addresses: a network is scoped from the audit log alone)."""
    batches = AccessBatch.all_tenants.filter(organisation_id=organisation.id, occurred_at__gte=start,
                                             occurred_at__lt=end)
    if person is not None:
        batches = batches.filter(actor_id__in=[person.user_id, *person.pseudonyms],
                                 actor_type__in=personal.PERSON_ACTORS)
    elif subject.kind == "api_key":
        batches = batches.filter(actor_type="api_key", actor_id=subject.value)
    elif subject.kind == "staff_grant":
        batches = batches.filter(grant_id=subject.value)
    else:
        return []
    return [(READ_LOG_TYPES.get(str(t), str(t)), str(i)) for batch in batches for t, i in batch.resources]


def scope(subject: Subject, start: datetime.datetime, end: datetime.datetime, *,
          clock: Clock = timezone.now) -> dict[str, Any]:
    """The result itself (not saved): every organisation the subject touched in [start, end)."""
    _check(subject, start, end, clock())
    with platform_scope():
        organisations = list(Organisation.objects.order_by("slug"))
    user = _user(subject) if subject.kind == "user" else None
    found = []
    for organisation in organisations:
        chain = str(organisation.id)
        with tenant_context(organisation.id):
            person = Person(str(user.pk), personal.pseudonyms_of_user(chain, user.pk)) if user else None
            events = _events(subject, person, chain, start, end)
            reads = _read_log(subject, person, organisation, start, end)
            result = _organisation_result(organisation, events, reads)
        if result is not None:
            found.append(result)
    return {"subject": {"kind": subject.kind, "value": subject.value}, "window": [start.isoformat(), end.isoformat()],
            "organisations": found}


def run(incident: Incident, subject: Subject, start: datetime.datetime, end: datetime.datetime, *,
        by: User | None, clock: Clock = timezone.now) -> ScopingResult:
    """Scope and keep the result with the incident, audited (the digest is in the event)."""
    result = scope(subject, start, end, clock=clock)
    digest = hashlib.sha256(_canonical(result)).hexdigest()
    with transaction.atomic(), platform_scope():
        saved = ScopingResult.objects.create(
            incident=incident, subject_kind=subject.kind, subject=subject.value, window_start=start, window_end=end,
            result=result, digest=digest, run_at=clock(), run_by_label=by.get_username() if by else "platform")
        audit.record(BREACH_SCOPED, organisation_id=None, resource_type="incident_response", resource_id=incident.id,
                     changes={"reference": incident.reference, "scoping": str(saved.id), "kind": subject.kind,
                              "digest": digest, "organisations": len(result["organisations"])})
    return saved
