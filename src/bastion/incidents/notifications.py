"""Personal data breach notices (GDPR Art. 33): confirming a breach starts a 72-hour clock; Bastion
drafts one notice per affected organisation from a scoping result, holding every item of Art. 33(3);
staff review and send it — by email to the organisation's owners and admins, in its console and
API — possibly in phases (Art. 33(4)), and must give the reason for any delay past 72 hours
(Art. 33(1)). Every step is audited in the platform's chain and in the organisation's.

An exercise's notices are drafted the same way, marked, and "sent" only to the platform's own
operators (``BASTION_ALERT_EMAILS``): never to a customer.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.identity.models import User
from bastion.incidents.audit_actions import (
    BREACH_CONFIRMED,
    BREACH_NOTICE_DRAFTED,
    BREACH_NOTICE_EDITED,
    BREACH_NOTICE_SENT,
)
from bastion.incidents.models import DRAFT, SENT, BreachNotice, Incident, ScopingResult
from bastion.incidents.refusals import NotAllowed
from bastion.tenancy import members
from bastion.tenancy.context import tenant_context
from bastion.tenancy.models import Organisation

logger = logging.getLogger("bastion.incidents")
Clock = Callable[[], datetime.datetime]
NOTIFY_WITHIN = datetime.timedelta(hours=72)
VIEW_PERMISSION = "security.notices.view"
EDITABLE = ("nature", "contact_point", "likely_consequences", "measures", "approx_subjects", "approx_records")

# Art. 33(3): what a notice must describe, and the field that carries each item.
ARTICLE_33_3 = {
    "(a) the nature of the breach": "nature",
    "(a) the categories and approximate number of data subjects": "approx_subjects",
    "(a) the categories and approximate number of personal data records": "data_categories",
    "(b) a contact point where more information can be obtained": "contact_point",
    "(c) the likely consequences of the breach": "likely_consequences",
    "(d) the measures taken or proposed, including to mitigate its effects": "measures",
}


@dataclass(frozen=True)
class Deadline:
    confirmed_at: datetime.datetime
    due: datetime.datetime

    def passed(self, now: datetime.datetime) -> bool:
        return now > self.due


def deadline(incident: Incident) -> Deadline | None:
    if incident.breach_confirmed_at is None:
        return None
    return Deadline(incident.breach_confirmed_at, incident.breach_confirmed_at + NOTIFY_WITHIN)


def _label(user: User | None) -> str:
    return user.get_username() if user is not None else "platform"


def _record_both(action: str, notice: BreachNotice, changes: dict[str, object]) -> None:
    """The same event in the organisation's chain (its own record of what it was told) and the platform's."""
    changes = {"incident": notice.incident.reference, "notice": str(notice.id), "phase": notice.phase,
               "exercise": notice.exercise, **changes}
    audit.record(action, organisation_id=notice.organisation_id, resource_type="breach_notice",
                 resource_id=notice.id, changes=changes)
    audit.record(action, organisation_id=None, resource_type="breach_notice", resource_id=notice.id,
                 changes={"organisation": str(notice.organisation_id), **changes})


def confirm_breach(incident: Incident, *, by: User | None, clock: Clock = timezone.now) -> Incident:
    now = clock()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(id=incident.id)
        if incident.breach_confirmed_at is not None:
            raise NotAllowed(f"{incident.reference}: the breach was confirmed at {incident.breach_confirmed_at}")
        incident.breach_confirmed_at = now
        incident.save(update_fields=["breach_confirmed_at"])
        audit.record(BREACH_CONFIRMED, organisation_id=None, resource_type="incident_response",
                     resource_id=incident.id, changes={"reference": incident.reference, "exercise": incident.exercise,
                                                       "notify_by": now + NOTIFY_WITHIN, "by": _label(by)})
    return incident


def draft_notices(incident: Incident, scoping: ScopingResult, *, by: User | None,
                  clock: Clock = timezone.now) -> list[BreachNotice]:
    """One draft per organisation the scoping names, in the next phase for that organisation."""
    if incident.breach_confirmed_at is None:
        raise NotAllowed(f"{incident.reference}: confirm the personal data breach before drafting notices")
    if scoping.incident_id != incident.id:
        raise NotAllowed("that scoping belongs to another incident")
    now = clock()
    drafts = []
    for scoped in scoping.result["organisations"]:
        organisation_id = uuid.UUID(scoped["id"])
        with tenant_context(organisation_id):
            phase = BreachNotice.objects.filter(incident=incident).count() + 1
            categories = [{"category": name, "records": count}
                          for name, count in sorted(scoped["categories"].items())]
            notice = BreachNotice.objects.create(
                organisation_id=organisation_id, incident=incident, phase=phase, exercise=incident.exercise,
                nature=_nature(incident, scoping, scoped), data_categories=categories,
                approx_subjects=scoped["data_subjects"], approx_records=scoped["records"],
                contact_point=_contact_point(), likely_consequences=_consequences(scoped),
                measures=_measures(incident, scoping), drafted_at=now)
            _record_both(BREACH_NOTICE_DRAFTED, notice, {"scoping": str(scoping.id), "by": _label(by)})
        drafts.append(notice)
    return drafts


def _nature(incident: Incident, scoping: ScopingResult, scoped: dict) -> str:
    window = f"{scoping.window_start:%Y-%m-%d %H:%M} to {scoping.window_end:%Y-%m-%d %H:%M} UTC"
    return (f"{incident.title}. {incident.summary}".strip() + "\n\n"
            f"A compromised {scoping.subject_kind.replace('_', ' ')} was used between {window}. In your "
            f"organisation it read {scoped['reads']} and changed {scoped['changes']} item(s).")


# What losing each kind of data may mean for the people and the organisation concerned; staff edit the draft.
CONSEQUENCES = {
    "supplier records (with a contact person)": "supplier contacts' names and email addresses may be used for "
                                                "phishing or impersonation",
    "member accounts": "members' names and email addresses may be used for phishing; review their sign-ins",
    "emissions records": "commercially sensitive emissions figures may be disclosed to a third party",
    "energy records": "energy consumption figures, which can reveal activity at each site, may be disclosed",
    "evidence files": "invoices and other evidence files, which may hold names and prices, may be disclosed",
    "stored credentials": "the third-party credentials opened must be treated as known to the attacker",
}
PROPOSED = {
    "user": "the account's password was reset, its sessions and API keys revoked, and its second factor re-enrolled",
    "api_key": "the API key was revoked",
    "scim_token": "the SCIM token was revoked and a new one issued",
    "staff_grant": "the staff grant was revoked and the staff account suspended pending review",
    "network": "the addresses were blocked",
}


def _contact_point() -> str:
    contacts = [c.removeprefix("mailto:") for c in settings.BASTION_SECURITY_CONTACTS]
    return settings.BASTION_BREACH_CONTACT_POINT or (f"Bastion security team: {', '.join(contacts)}" if contacts else "")


def _consequences(scoped: dict) -> str:
    found = [CONSEQUENCES[name] for name in sorted(scoped["categories"]) if name in CONSEQUENCES]
    text = "; ".join(found)
    return f"{text[0].upper()}{text[1:]}." if text else ""


def _measures(incident: Incident, scoping: ScopingResult) -> str:
    done = [f"- {note.created_at:%Y-%m-%d %H:%M} UTC: {note.body}"
            for note in incident.notes.filter(kind__in=("phase", "note")).order_by("created_at")]
    return "\n".join([f"Proposed: {PROPOSED[scoping.subject_kind]}.", *(["Taken so far:", *done] if done else [])])


def edit(notice: BreachNotice, *, by: User | None, **fields: object) -> BreachNotice:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: ValidationError("not an editable field", code="invalid") for name in unknown})
    with tenant_context(notice.organisation_id):
        notice = BreachNotice.objects.select_for_update().get(id=notice.id)
        if notice.status != DRAFT:
            raise NotAllowed("a sent notice is not changed: send a further phase instead")
        for name, value in fields.items():
            setattr(notice, name, value.strip() if isinstance(value, str) else value)
        notice.full_clean(exclude=["organisation", "incident"])
        notice.save()
        _record_both(BREACH_NOTICE_EDITED, notice, {"fields": sorted(fields), "by": _label(by)})
    return notice


def missing_items(notice: BreachNotice) -> list[str]:
    """The Art. 33(3) items the notice does not hold yet."""
    return [item for item, field in ARTICLE_33_3.items() if getattr(notice, field) in (None, "", [])]


def send(notice: BreachNotice, *, by: User | None, delay_reason: str = "", clock: Clock = timezone.now) -> BreachNotice:
    now = clock()
    with tenant_context(notice.organisation_id):
        notice = BreachNotice.objects.select_for_update().select_related("incident").get(id=notice.id)
        if notice.status == SENT:
            raise NotAllowed("this notice was sent already")
        missing = missing_items(notice)
        if missing:
            raise ValidationError({"notice": ValidationError("Art. 33(3) items missing: " + "; ".join(missing),
                                                             code="incomplete")})
        due = deadline(notice.incident)
        assert due is not None  # drafts exist only for confirmed breaches
        if due.passed(now) and not delay_reason.strip():
            raise ValidationError({"delay_reason": ValidationError(
                f"The 72 hours ended at {due.due:%Y-%m-%d %H:%M %Z}: say why the notice is late (Art. 33(1)).",
                code="required")})
        notice.status, notice.sent_at, notice.sent_by_label = SENT, now, _label(by)
        notice.delay_reason = delay_reason.strip()
        notice.save()
        recipients = _recipients(notice)
        _record_both(BREACH_NOTICE_SENT, notice, {"recipients": len(recipients), "late": due.passed(now),
                                                  "by": _label(by)})
        organisation = Organisation.objects.get(id=notice.organisation_id)
        transaction.on_commit(lambda: _email(notice, organisation, recipients))
    return notice


def _recipients(notice: BreachNotice) -> list[str]:
    if notice.exercise:
        return list(settings.BASTION_ALERT_EMAILS)
    return [user.email for user in members.holding(VIEW_PERMISSION)]


def render_text(notice: BreachNotice, organisation: Organisation) -> str:
    categories = "\n".join(f"  - {c['category']}: about {c['records']} record(s)" for c in notice.data_categories)
    lines = [
        f"To the owners and administrators of {organisation.name}:",
        "",
        f"Bastion is notifying you of a personal data breach (incident {notice.incident.reference}"
        f"{', update ' + str(notice.phase) if notice.phase > 1 else ''}).",
        "",
        "Nature of the breach:", notice.nature, "",
        f"Data subjects concerned: about {notice.approx_subjects}.",
        f"Personal data records concerned: about {notice.approx_records}, by category:", categories, "",
        "Likely consequences:", notice.likely_consequences, "",
        "Measures taken or proposed:", notice.measures, "",
        "Contact point for more information:", notice.contact_point,
    ]
    if notice.delay_reason:
        lines += ["", "Why this notice comes later than 72 hours after we confirmed the breach:", notice.delay_reason]
    lines += ["", "This notice is also in your organisation's console and API (notices)."]
    return "\n".join(lines)


def _email(notice: BreachNotice, organisation: Organisation, recipients: list[str]) -> None:
    marker = "[EXERCISE] " if notice.exercise else ""
    subject = f"[Bastion] {marker}Personal data breach notice ({notice.incident.reference})"
    body = render_text(notice, organisation)
    for address in recipients:  # one message each: recipients never see each other's addresses
        try:
            send_mail(subject, body, None, [address])
        except OSError:  # the notice stays sent and in the console; the failure is logged and counted
            logger.exception("could not email breach notice %s", notice.id)
