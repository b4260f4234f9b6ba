"""Who may write the status page: platform staff in the operator role (``support_access.staff``),
signed in with a security key or passkey. Reading the staff pages needs a session signed in with
it; every change needs step-up (a second factor used in the last ``BASTION_STEP_UP_SECONDS``).
Anyone else is told the page does not exist."""

from __future__ import annotations

from bastion.support_access.staff import staff_only

platform_staff = staff_only("operator")
