"""``bastion staff create EMAIL --role support|security|operator``: shows what
``support_access.staff.create_staff`` did."""

from __future__ import annotations

import sys
from typing import TextIO

from bastion.support_access import staff


def create(email: str, role: str, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        made = staff.create_staff(email, role)
    except staff.StaffRefused as exc:
        err.write(f"bastion staff create: {exc}\n")
        return 2
    factor = "a security key or passkey" if role in ("security", "operator") else "a second factor"
    out.write(f"{made.email}: platform staff, role {made.role} ({'new account' if made.created else 'existing account'}).\n"
              f"They set a password through \"Forgot password\" and must register {factor} at first sign-in.\n")
    return 0
