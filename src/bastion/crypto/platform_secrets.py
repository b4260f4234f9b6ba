"""Secrets that belong to a person rather than an organisation (TOTP seeds, recovery-code seeds):
AES-256-GCM under the platform's own data key, which the KMS wraps like any organisation's.

A user is global (one identity, many organisations), so their MFA secrets cannot sit under one
organisation's key: deleting that organisation would shred a person's second factor.
"""

from __future__ import annotations

import hashlib
import hmac

from django.db import transaction

from bastion.crypto import envelope, keyfiles
from bastion.db import rls
from bastion.db.platform import PLATFORM_ID


def _ad(purpose: str) -> bytes:
    return envelope.associated_data(PLATFORM_ID, "platform", purpose, "")


def seal(text: str, *, purpose: str) -> str:
    with transaction.atomic(), rls.setting("bastion.org_id", PLATFORM_ID):
        return envelope.encrypt(text.encode(), organisation_id=PLATFORM_ID, ad=_ad(purpose))


def open_sealed(token: str, *, purpose: str) -> str:
    with transaction.atomic(), rls.setting("bastion.org_id", PLATFORM_ID):
        return envelope.decrypt(token, organisation_id=PLATFORM_ID, ad=_ad(purpose)).decode()


def keyed_digest(value: str, *, purpose: str) -> str:
    """HMAC-SHA-256 of ``value`` under a key file outside the database: a stored digest that a
    database copy alone cannot brute-force, however short the value."""
    key = keyfiles.read_or_create("platform-digest.key")
    return hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()
