"""Sign-up that takes the same time whether or not the address already has an account.

allauth answers both cases alike (an "already exists" email goes to the owner of the address),
but only a new account hashes its password: ~100 ms of Argon2id that would tell the two apart.
So the existing-account path hashes the offered password too, and throws the hash away.

An address on a domain whose organisation signs in with single sign-on cannot get a password
account: its people (invitees included) are sent through the organisation's identity provider,
which makes their account at their first sign-in. The sign-in page says the same of that domain, so
the refusal tells nothing about any account.
"""

from __future__ import annotations

from allauth.account.forms import SignupForm
from django import forms
from django.contrib.auth.hashers import make_password

from bastion.identity.sso import discovery as sso_discovery


class SameWorkSignupForm(SignupForm):
    def clean_email(self):
        email = super().clean_email()
        if sso_discovery.connection_for_email(email or "") is not None:
            raise forms.ValidationError(
                "Your organisation signs in with single sign-on: use \"Sign in with SSO\" with this address "
                "(your account is made at your first sign-in there).", code="sso_required")
        return email

    def try_save(self, request):
        if self.account_already_exists:
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)
