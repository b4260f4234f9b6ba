"""Signing in and out (Django's views, declared public and rendered inside the request)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm

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
