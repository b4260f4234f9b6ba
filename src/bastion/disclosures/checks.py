"""Residency checks (E7xx, privacy): the deployment declares its region, and no storage, KMS or
backup endpoint is configured in another one. ``bastion serve`` runs them at start."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from bastion.checks import expectation
from bastion.disclosures.residency import outside_region


@register(Tags.security, deploy=True)
def check_residency(app_configs, **kwargs):
    problems = []
    if not settings.BASTION_REGION:
        problems.append(expectation(760, "BASTION_REGION is not set: the deployment declares no data region",
                                    "Set BASTION_REGION to the AWS-style region data must stay in (e.g. eu-central-1)."))
    for endpoint in outside_region():
        problems.append(Error(
            f"{endpoint.setting} ({endpoint.what}) is in {endpoint.region}, outside BASTION_REGION={settings.BASTION_REGION}",
            hint=f"Use a {settings.BASTION_REGION} bucket, endpoint or key, or change BASTION_REGION.",
            id="bastion.E761"))
    return problems
