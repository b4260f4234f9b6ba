"""Brute-force defence for password sign-in: a progressive lockout per account and per address.

- An account is locked after ``ACCOUNT_FAILURES`` (5) failures within ``WINDOW`` (15 min): for
  15 minutes, then 30, 60 … at most 24 hours for each further lock; a success clears it.
- A client address is locked after ``ADDRESS_FAILURES`` (50) failures within the window, whatever
  accounts it tried (password spraying), on the same progressive scale.
- A lock refuses password sign-ins only, with one message whether or not the account exists (no
  enumeration). It cannot shut the owner out for good: locks expire, and a password reset or an
  SSO sign-in (issue 3, parts 5 and 6) does not go through this check.

The clock is ``now`` (a module attribute) so that tests move time instead of sleeping.
"""

from __future__ import annotations

import datetime
import hashlib

from django.db import transaction
from django.utils import timezone

from bastion.identity.models import SignInThrottle

ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 50
WINDOW = datetime.timedelta(minutes=15)
FIRST_LOCK = datetime.timedelta(minutes=15)
LONGEST_LOCK = datetime.timedelta(hours=24)

now = timezone.now


def _keys(username: str, address: str | None) -> list[tuple[str, int]]:
    keys = [(f"account:{hashlib.sha256(username.strip().lower().encode()).hexdigest()}", ACCOUNT_FAILURES)]
    if address:
        keys.append((f"ip:{address}", ADDRESS_FAILURES))
    return keys


def locked_for(username: str, address: str | None, request=None) -> datetime.timedelta | None:
    """How much longer sign-ins for this account or from this address are refused, if they are.

    With ``request``, it also notes on it whether the account has a row at all, so that a success
    in the same request need not delete what is not there (``record_success``)."""
    current = now()
    keys = _keys(username, address)
    rows = list(SignInThrottle.objects.filter(key__in=[key for key, _ in keys]))
    if request is not None:
        request._bastion_account_throttle = (keys[0][0], any(row.key == keys[0][0] for row in rows))
    longest = max((row.locked_until for row in rows if row.locked_until is not None and row.locked_until > current),
                  default=None)
    return longest - current if longest else None


def record_failure(username: str, address: str | None) -> list[str]:
    """Count a failed attempt; returns the keys ("account", "ip") that became locked by it."""
    current, locked = now(), []
    with transaction.atomic():
        for key, limit in _keys(username, address):
            row, _ = SignInThrottle.objects.select_for_update().get_or_create(
                key=key, defaults={"first_failure_at": current})
            if current - row.first_failure_at > WINDOW:
                row.failures, row.first_failure_at = 0, current
            row.failures += 1
            if row.failures >= limit:
                row.locked_until = current + min(FIRST_LOCK * 2 ** row.lockouts, LONGEST_LOCK)
                row.lockouts += 1
                row.failures, row.first_failure_at = 0, current
                locked.append(key.split(":")[0])
            row.save()
    return locked


def record_success(username: str, request=None) -> None:
    """A correct password (while not locked) clears the account's count and its lock history.

    Skipped when ``locked_for`` saw no row for the account earlier in this request (a failure
    counted meanwhile by another request then stays counted: stricter, never weaker)."""
    key = _keys(username, None)[0][0]
    if getattr(request, "_bastion_account_throttle", None) == (key, False):
        return
    SignInThrottle.objects.filter(key=key).delete()
