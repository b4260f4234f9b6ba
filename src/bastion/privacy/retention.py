"""Retention: how long each class of data is kept, and the daily job that deletes what is past it.

The platform sets a default per data class (``BASTION_RETENTION_*_DAYS``); an organisation may
tighten or lengthen it within the class's bounds (the lower bound is the legal duty: accounting
records are kept 7 years by default and never less than 5). A legal hold suspends deletion of
everything it covers; the run's answer says what was kept and why. ``enforce(dry_run=True)``
deletes nothing and reports what a real run would delete.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.audit import pruning
from bastion.db.platform import PLATFORM_ID
from bastion.identity.models import KnownClient
from bastion.privacy import holds
from bastion.privacy.audit_actions import RETENTION_COMPLETED, RETENTION_ENFORCED, RETENTION_POLICY_CHANGED
from bastion.privacy.models import RetentionPolicy
from bastion.records.models import EmissionRecord, EnergyRecord, EvidenceFile
from bastion.tenancy import context
from bastion.tenancy.models import Organisation

YEAR = 365


@dataclasses.dataclass(frozen=True)
class DataClass:
    name: str
    description: str
    minimum_days: int
    maximum_days: int
    per_organisation: bool = True  # False: a platform-wide class (sessions), no organisation override
    enforced_by: str = "privacy.retention"


def _defaults() -> dict[str, int]:
    return {
        "emissions": settings.BASTION_RETENTION_RECORDS_DAYS,
        "energy": settings.BASTION_RETENTION_RECORDS_DAYS,
        "financial": settings.BASTION_RETENTION_RECORDS_DAYS,
        "evidence": settings.BASTION_RETENTION_EVIDENCE_DAYS,
        "audit_log": 7 * YEAR + 2,
        "sign_in_history": settings.BASTION_RETENTION_SIGN_IN_HISTORY_DAYS,
        "sessions": settings.BASTION_RETENTION_SESSIONS_DAYS,
        "exports": settings.BASTION_EPHEMERAL_ARTIFACT_DAYS,
    }


DATA_CLASSES = {c.name: c for c in [
    DataClass("emissions", "Emissions records, counted from the end of their period", 5 * YEAR, 15 * YEAR),
    DataClass("energy", "Energy records, counted from the end of their period", 5 * YEAR, 15 * YEAR),
    DataClass("financial", "Financial records, counted from the end of their period (none held yet)", 5 * YEAR, 15 * YEAR),
    DataClass("evidence", "Evidence files, counted from their upload", 5 * YEAR, 15 * YEAR),
    DataClass("audit_log", "Audit events, pruned only at a signed checkpoint boundary (docs/audit.md)", 7 * YEAR,
              15 * YEAR),
    DataClass("sign_in_history", "Known devices and networks people signed in from, from their last use",
              30, 2 * YEAR, per_organisation=False),
    DataClass("sessions", "Sessions (address, browser), from their last request", 1, YEAR, per_organisation=False),
    DataClass("exports", "Exports not downloaded, from their creation", 1, 30, per_organisation=False,
              enforced_by="the hourly ephemeral-artifact job (tenancy.artifacts)"),
]}


def effective(organisation_id) -> dict[str, dict]:
    """Every data class's period for an organisation, with its source and bounds."""
    defaults = _defaults()
    own = {p.data_class: p.days for p in RetentionPolicy.all_tenants.filter(organisation_id=organisation_id)}
    return {
        name: {"days": own.get(name, defaults[name]), "default_days": defaults[name],
               "source": "organisation" if name in own else "platform", "minimum_days": c.minimum_days,
               "maximum_days": c.maximum_days, "per_organisation": c.per_organisation,
               "description": c.description, "enforced_by": c.enforced_by}
        for name, c in DATA_CLASSES.items()
    }


def set_policy(organisation: Organisation, data_class: str, days: int | None) -> dict[str, dict]:
    """Set (``days``) or drop back to the platform default (``None``) one class's period."""
    known = DATA_CLASSES.get(data_class)
    if known is None:
        raise ValidationError({"data_class": ValidationError("Unknown data class.", code="unknown_data_class")})
    if not known.per_organisation:
        raise ValidationError({"data_class": ValidationError("This class is set by the platform.", code="platform_class")})
    if days is not None and not known.minimum_days <= days <= known.maximum_days:
        raise ValidationError({"days": ValidationError(
            f"Between {known.minimum_days} and {known.maximum_days} days.", code="out_of_bounds")})
    before = effective(organisation.id)[data_class]["days"]
    with transaction.atomic():
        RetentionPolicy.objects.filter(organisation_id=organisation.id, data_class=data_class).delete()
        if days is not None:
            RetentionPolicy.objects.create(organisation=organisation, data_class=data_class, days=days)
        after = effective(organisation.id)[data_class]["days"]
        audit.record(RETENTION_POLICY_CHANGED, organisation_id=organisation.id, resource_type="retentionpolicy",
                     resource_id=data_class, changes={"days": [before, after]})
    return effective(organisation.id)


@dataclasses.dataclass
class ClassOutcome:
    organisation: str  # slug, or "platform"
    data_class: str
    cutoff: datetime.datetime
    deleted: int = 0
    kept_by_hold: dict[str, int] = dataclasses.field(default_factory=dict)  # hold description → rows kept


@dataclasses.dataclass
class RetentionRun:
    dry_run: bool
    now: datetime.datetime
    outcomes: list[ClassOutcome] = dataclasses.field(default_factory=list)

    @property
    def deleted(self) -> int:
        return sum(o.deleted for o in self.outcomes)

    @property
    def held(self) -> int:
        return sum(sum(o.kept_by_hold.values()) for o in self.outcomes)


def _nothing(organisation: str, done: int, total: int) -> None:
    pass


def enforce(*, now: datetime.datetime | None = None, dry_run: bool = False,
            progress: Callable[[str, int, int], None] = _nothing) -> RetentionRun:
    now = now or timezone.now()
    run = RetentionRun(dry_run=dry_run, now=now)
    with context.platform_scope():
        organisations = list(Organisation.objects.order_by("slug"))
    for done, organisation in enumerate(organisations, 1):
        with context.tenant_context(organisation.id):
            _enforce_organisation(organisation, now, dry_run, run)
        progress(organisation.slug, done, len(organisations))
    with transaction.atomic():
        _enforce_platform(now, dry_run, run)
        if not dry_run:  # the run itself is evidence (the trust page's "retention jobs ran"), even when nothing was due
            audit.record(RETENTION_COMPLETED, resource_type="retention", changes={
                "organisations": len(organisations), "deleted": run.deleted, "kept_by_hold": run.held,
                "now": now})
    return run


def _enforce_organisation(organisation: Organisation, now, dry_run: bool, run: RetentionRun) -> None:
    periods = effective(organisation.id)
    active = holds.active(organisation.id)
    today = now.date()
    targets = [
        ("emissions", EmissionRecord.objects.select_related("project"), lambda cutoff: {"period_end__lt": cutoff.date()}),
        ("energy", EnergyRecord.objects.select_related("project"), lambda cutoff: {"period_end__lt": cutoff.date()}),
        ("evidence", EvidenceFile.objects.select_related("project"), lambda cutoff: {"created_at__lt": cutoff}),
    ]
    for data_class, queryset, past in targets:
        cutoff = datetime.datetime.combine(today, datetime.time(), tzinfo=datetime.UTC) - datetime.timedelta(
            days=periods[data_class]["days"])
        outcome = ClassOutcome(organisation.slug, data_class, cutoff)
        doomed = []
        for row in queryset.filter(organisation_id=organisation.id, **past(cutoff)):
            hold = holds.covering_project(active, row.project_id, row.project.workspace_id)
            if hold is not None:
                outcome.kept_by_hold[hold.describe()] = outcome.kept_by_hold.get(hold.describe(), 0) + 1
            else:
                doomed.append(row.pk)
        outcome.deleted = len(doomed)
        if (doomed or outcome.kept_by_hold) and not dry_run:
            if doomed:
                queryset.model.objects.filter(pk__in=doomed).delete()  # evidence's files go with their rows
            audit.record(RETENTION_ENFORCED, organisation_id=organisation.id, resource_type=data_class,
                         changes={"deleted": len(doomed), "cutoff": cutoff, "days": periods[data_class]["days"],
                                  "kept_by_hold": outcome.kept_by_hold})
        run.outcomes.append(outcome)
    _prune_audit_log(str(organisation.id), organisation.slug, periods["audit_log"]["days"], now, dry_run, run, active)


def _prune_audit_log(chain_id: str, label: str, days: int, now, dry_run: bool, run: RetentionRun,
                     active: list) -> None:
    """The audit log: up to the last signed checkpoint whose events are all past the period; any legal
    hold in the organisation suspends it (the log is evidence of everything the hold covers)."""
    cutoff = now - datetime.timedelta(days=days)
    outcome = ClassOutcome(label, "audit_log", cutoff)
    planned = pruning.prune(chain_id, cutoff, dry_run=True)
    if active and planned.deleted:
        outcome.kept_by_hold = {hold.describe(): planned.deleted for hold in active[:1]}
    else:
        outcome.deleted = (planned if dry_run else pruning.prune(chain_id, cutoff)).deleted
    run.outcomes.append(outcome)


def _enforce_platform(now, dry_run: bool, run: RetentionRun) -> None:
    from allauth.usersessions.models import UserSession

    defaults = _defaults()
    for data_class, queryset, field in (
        ("sessions", UserSession.objects.all(), "last_seen_at"),
        ("sign_in_history", KnownClient.objects.all(), "last_seen"),
    ):
        cutoff = now - datetime.timedelta(days=defaults[data_class])
        past = queryset.filter(**{f"{field}__lt": cutoff})
        outcome = ClassOutcome("platform", data_class, cutoff, deleted=past.count())
        if outcome.deleted and not dry_run:
            if data_class == "sessions":
                for session in past:
                    if isinstance(session, UserSession):  # what this data class holds
                        session.end()
            past.delete()
            audit.record(RETENTION_ENFORCED, resource_type=data_class,
                         changes={"deleted": outcome.deleted, "cutoff": cutoff, "days": defaults[data_class]})
        run.outcomes.append(outcome)
    _prune_audit_log(PLATFORM_ID, "platform", defaults["audit_log"], now, dry_run, run, [])
