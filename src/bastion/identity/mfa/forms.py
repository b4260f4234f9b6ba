"""The second-factor step of sign-in obeys the same lockout as the password step: a locked account
is refused before its code is checked, and each wrong code counts (``account_events.on_mfa_failed``),
so six digits cannot be guessed by trying them all."""

from __future__ import annotations

from allauth.core import context as allauth_context
from allauth.mfa.base.forms import AuthenticateForm
from django.core.exceptions import ValidationError

from bastion.audit.context import client_address
from bastion.identity import lockout


class LockoutAwareAuthenticateForm(AuthenticateForm):
    def clean_code(self) -> str:
        request = allauth_context.request
        wait = lockout.locked_for(self.user.get_username(), client_address(request) if request else None)
        if wait is not None:
            minutes = max(1, round(wait.total_seconds() / 60))
            raise ValidationError(f"Too many failed sign-in attempts. Try again in {minutes} minutes.",
                                  code="locked_out")
        return super().clean_code()
