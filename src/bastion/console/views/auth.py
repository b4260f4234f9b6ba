"""Signing in and out (Django's views, declared public and rendered inside the request)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from bastion.audit.context import client_address
from bastion.identity import lockout, signin_events
from bastion.tenancy.access import public


class EmailAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Please enter a correct email and password. The password is case-sensitive.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.input_type = "email"

    def clean_username(self):
        # Emails are stored lower-cased (see identity's user manager).
        return self.cleaned_data["username"].strip().lower()

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request else None
        wait = lockout.locked_for(username, address)
        if wait is not None:
            signin_events.on_login_refused(username, int(wait.total_seconds()))
            minutes = max(1, round(wait.total_seconds() / 60))
            # The same answer whether or not the account exists, and the password is not checked.
            raise ValidationError(f"Too many failed sign-in attempts. Try again in {minutes} minutes, "
                                  "or reset your password.", code="locked_out")
        try:
            cleaned = super().clean()
        except ValidationError:
            if locked := lockout.record_failure(username, address):
                signin_events.on_lockout(username, locked)
            raise
        if self.get_user() is not None:  # a blank field fails before any password is checked
            lockout.record_success(username)
        return cleaned


_login_view = auth_views.LoginView.as_view(
    template_name="console/login.html", authentication_form=EmailAuthenticationForm
)
_logout_view = auth_views.LogoutView.as_view()


@public
def login(request):
    response = _login_view(request)
    if hasattr(response, "render"):
        response.render()  # eagerly, while the request's transaction is open
    return response


@public
def logout(request):
    return _logout_view(request)
