"""A person's erasure reaches the staff-access records: where they asked, approved, decided,
revoked or reviewed a grant, their address gives way to "erased person". The record of what was
granted, when and why stays (it is the organisation's evidence of who had access)."""

from __future__ import annotations

from typing import Any

from bastion.support_access.models import AccessRequest
from bastion.tenancy import context

ERASED = "erased person"
LABELS = ("requested_by_label", "decided_by_label", "revoked_by_label", "org_reviewed_by_label",
          "staff_reviewed_by_label")


def on_erasing_person(sender: Any, user: Any, addresses: list[str], **kwargs: Any) -> list[tuple[str, int]]:
    wanted = {a.strip().lower() for a in addresses if a}
    changed = 0
    with context.platform_scope():
        for request in AccessRequest.all_tenants.all():
            fields = [name for name in LABELS if getattr(request, name).strip().lower() in wanted]
            for name in fields:
                setattr(request, name, ERASED)
            approvals = [{**a, "label": ERASED} if str(a.get("label", "")).strip().lower() in wanted
                         or a.get("user") == user.pk else a for a in request.approvals]
            if fields or approvals != request.approvals:
                request.approvals = approvals
                request.save(update_fields=[*fields, "approvals"])
                changed += 1
    return [("the person's name on staff access requests (who asked, approved, decided or reviewed)", changed)]
