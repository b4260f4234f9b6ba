"""The organisation's read-access log, filtered by person and by resource."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from bastion.access_log import people
from bastion.access_log.models import AccessBatch


def batches(organisation_id: uuid.UUID, *, actor: str = "", resource_type: str = "", resource_id: str = "",
            kind: str = "") -> QuerySet[AccessBatch]:
    found = AccessBatch.all_tenants.filter(organisation_id=organisation_id).order_by("-seq")
    if actor:
        found = found.filter(actor_id__in=people.actor_ids(organisation_id, actor)) | found.filter(
            actor_label__iexact=actor)
    if kind:
        found = found.filter(kind=kind)
    if resource_type and resource_id:
        found = found.filter(resource_keys__contains=f" {resource_type}:{resource_id} ")
    elif resource_type:
        found = found.filter(resource_keys__contains=f" {resource_type}:")
    elif resource_id:
        found = found.filter(resource_keys__contains=f":{resource_id} ")
    return found
