"""Key ages: every organisation's newest data key younger than ``BASTION_KEY_MAX_AGE_DAYS``."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bastion.crypto.key_models import DataKey
from bastion.tenancy import context
from bastion.tenancy.organisations import slugs_by_id
from bastion.trust.checks import Outcome, check, failed, passed


@check("crypto.key_ages", "Every organisation's data key is within the rotation policy")
def key_ages() -> Outcome:
    limit = datetime.timedelta(days=settings.BASTION_KEY_MAX_AGE_DAYS)
    now, ages = timezone.now(), {}
    for organisation_id, slug in slugs_by_id().items():
        with context.tenant_context(uuid.UUID(organisation_id)), transaction.atomic():
            newest = (DataKey.objects.filter(organisation_id=organisation_id).order_by("-version")
                      .values_list("created_at", flat=True).first())
        if newest is not None:
            ages[slug] = (now - newest).days
    old = sorted(slug for slug, days in ages.items() if days > limit.days)
    evidence = {"max_age_days": limit.days, "age_days": ages}
    if old:
        return failed(f"{len(old)} organisations' data keys are older than {limit.days} days: {', '.join(old)}",
                      **evidence)
    return passed(f"all {len(ages)} organisations' data keys are within {limit.days} days", **evidence)
