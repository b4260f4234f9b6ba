"""django-allauth, configured for Bastion: sign-in by email, our lockout, our client address.

allauth does the flows (sign-in, sign-up, email verification, password reset and change, MFA,
sessions); this adapter plugs Bastion's controls into the points allauth offers for them.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError

from bastion.audit.context import client_address
from bastion.identity import invitations, lockout, signin_events
from bastion.identity.mfa import first_sign_in
from bastion.identity.mfa import policy as mfa_policy
from bastion.identity.sessions import devices as sign_in_devices


class BastionAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_SIGNUP_ENABLED

    def populate_username(self, request, user) -> None:
        # Users are known by their email; Django's username column holds the same value.
        user.username = user.email = (user.email or "").strip().lower()

    def get_client_ip(self, request) -> str:
        # As allauth does: no address, no service (a clear 403). A placeholder would be stored in
        # PostgreSQL's inet columns (user sessions) and fail there as a 500.
        address = client_address(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address.")
        return address

    def pre_authenticate(self, request, **credentials) -> None:
        """A locked account or address is refused before its password is checked, with one message
        whether or not the account exists."""
        super().pre_authenticate(request, **credentials)
        username = _username(credentials)
        wait = lockout.locked_for(username, client_address(request), request)
        if wait is not None:
            signin_events.on_login_refused(username, int(wait.total_seconds()))
            minutes = max(1, round(wait.total_seconds() / 60))
            raise ValidationError(f"Too many failed sign-in attempts. Try again in {minutes} minutes, "
                                  "or reset your password.", code="locked_out")

    def authentication_failed(self, request, **credentials) -> None:
        username = _username(credentials)
        if locked := lockout.record_failure(username, client_address(request)):
            signin_events.on_lockout(username, locked)

    def set_password(self, user, password) -> None:
        """A reset link proves the address: an account nobody had signed in to, made for that
        address by someone else, is claimed here, and its grants (never accepted) become
        invitations instead of being inherited."""
        unclaimed = invitations.is_unclaimed(user)
        super().set_password(user, password)
        if unclaimed:
            invitations.claim(user, request=self.request)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """A sign-in a few minutes ago is as good as typing the password again: the owner's first
        sign-in goes straight on to set up a second factor. Later changes still ask again."""
        required = super().is_reauthentication_required(app=app, **kwargs)
        return required and not first_sign_in.signed_in_just_now(context.request)

    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        if first_sign_in.hide_message(request, message_template):
            return  # "Successfully signed in" next to "set up your second factor first" contradicts it
        super().add_message(request, level, message_template, message_context, extra_tags, message)

    def get_login_redirect_url(self, request) -> str:
        if first_sign_in.must_set_up_second_factor(request):
            messages.info(request, first_sign_in.SET_UP_MESSAGE)
            return first_sign_in.SET_UP_URL  # straight to it, not via a page that sends them there
        return super().get_login_redirect_url(request)

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        # Every way in (password, passkey, SSO, reset link) ends here, so these hold for all of them.
        lockout.record_success(user.get_username(), request)
        mfa_policy.on_sign_in(request, user)
        sign_in_devices.on_sign_in(request, user)
        return response


def _username(credentials: dict) -> str:
    return str(credentials.get("email") or credentials.get("username") or "").strip().lower()
