"""Sign-up that takes the same time whether or not the address already has an account.

allauth answers both cases alike (an "already exists" email goes to the owner of the address),
but only a new account hashes its password: ~100 ms of Argon2id that would tell the two apart.
So the existing-account path hashes the offered password too, and throws the hash away.

An address on a domain whose organisation signs in with single sign-on cannot get a password
account: its people (invitees included) are sent through the organisation's identity provider,
which makes their account at their first sign-in. The sign-in page says the same of that domain, so
the refusal tells nothing about any account. The same rule holds for an address added to an
existing account (allauth's email page): a password account that took on an address of that domain
would be linked by the organisation's SSO sign-in while keeping a password the IdP does not govern.
"""

from __future__ import annotations

from allauth.account.forms import AddEmailForm, SignupForm
from django import forms
from django.contrib.auth.hashers import make_password

from bastion.identity.sso import discovery as sso_discovery


def refuse_single_sign_on_domain(email: str, message: str) -> None:
    if sso_discovery.connection_for_email(email or "") is not None:
        raise forms.ValidationError(message, code="sso_required")


class SameWorkSignupForm(SignupForm):
    def clean_email(self):
        email = super().clean_email()
        refuse_single_sign_on_domain(
            email, "Your organisation signs in with single sign-on: use \"Sign in with SSO\" with this address "
            "(your account is made at your first sign-in there).")
        return email

    def try_save(self, request):
        if self.account_already_exists:
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)


class NoSingleSignOnDomainAddEmailForm(AddEmailForm):
    def clean_email(self) -> str:
        # Before allauth's own checks, which announce the address to its internal add-email signal.
        refuse_single_sign_on_domain(
            self.cleaned_data.get("email", ""), "This address's organisation signs in with single sign-on: its "
            "addresses come from the organisation's identity provider and cannot be added to an account here.")
        return super().clean_email()
