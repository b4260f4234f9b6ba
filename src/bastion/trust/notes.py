"""The operator's note shown next to a control on /trust (why it fails, what is being done about it).
A note never hides a result: the control's status comes from its checks alone."""

from __future__ import annotations

from django.db import transaction

from bastion.audit import chain as audit
from bastion.trust import catalogue
from bastion.trust.audit_actions import CONTROL_NOTE_SET
from bastion.trust.models import ControlNote


class UnknownControl(ValueError):
    """No control has this ref_id; the message names the known ones."""


def set_note(control_id: str, note: str) -> None:
    known = [control.ref_id for control in catalogue.load().controls]
    if control_id not in known:
        raise UnknownControl(f"no control {control_id!r}; known: {', '.join(known)}")
    with transaction.atomic():
        before = ControlNote.objects.filter(control_id=control_id).values_list("note", flat=True).first() or ""
        if note.strip():
            ControlNote.objects.update_or_create(control_id=control_id, defaults={"note": note.strip()})
        else:
            ControlNote.objects.filter(control_id=control_id).delete()
        audit.record(CONTROL_NOTE_SET, resource_type="trustcontrol", resource_id=control_id,
                     changes={"note": [before, note.strip()]})
