"""``/.well-known/security.txt`` (RFC 9116): where to report a vulnerability, and under what policy.

Contact, policy and expiry come from settings; the expiry, when not configured, is always
``BASTION_SECURITY_TXT_DAYS`` ahead (RFC 9116 asks for less than a year), so a running
deployment never serves a stale file.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from bastion.tenancy.access import public


@public
@transaction.non_atomic_requests
def security_txt(request):
    expires = settings.BASTION_SECURITY_TXT_EXPIRES or (
        timezone.now() + datetime.timedelta(days=settings.BASTION_SECURITY_TXT_DAYS))
    contacts = settings.BASTION_SECURITY_CONTACTS or [f"mailto:security@{request.get_host().partition(':')[0]}"]
    lines = [f"Contact: {contact}" for contact in contacts]
    lines.append(f"Expires: {expires.astimezone(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    lines.append(f"Policy: {settings.BASTION_SECURITY_POLICY_URL or request.build_absolute_uri(reverse('security'))}")
    lines.append(f"Acknowledgments: {request.build_absolute_uri(reverse('security_acknowledgments'))}")
    lines.append("Preferred-Languages: en")
    lines.append(f"Canonical: {request.build_absolute_uri('/.well-known/security.txt')}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
