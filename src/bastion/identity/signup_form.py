"""Sign-up that takes the same time whether or not the address already has an account.

allauth answers both cases alike (an "already exists" email goes to the owner of the address),
but only a new account hashes its password: ~100 ms of Argon2id that would tell the two apart.
So the existing-account path hashes the offered password too, and throws the hash away.
"""

from __future__ import annotations

from allauth.account.forms import SignupForm
from django.contrib.auth.hashers import make_password


class SameWorkSignupForm(SignupForm):
    def try_save(self, request):
        if self.account_already_exists:
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)
