"""The sign-in page's front door: users of a domain with single sign-on go to their identity
provider (whatever they typed as a password); everyone else signs in with allauth's form."""

from __future__ import annotations

from allauth.account.utils import get_next_redirect_url
from allauth.account.views import login as allauth_login
from allauth.socialaccount.adapter import get_adapter
from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from bastion.identity.sso import discovery as sso_discovery
from bastion.tenancy.access import public


def _to_identity_provider(request, connection):
    provider_key = "saml" if connection.protocol == connection.SAML else connection.slug
    provider = get_adapter().get_provider(request, provider_key, client_id=connection.slug
                                          if connection.protocol == connection.SAML else None)
    return provider.redirect(request, process="login", next_url=get_next_redirect_url(request))


@public
def login(request):
    if request.method == "POST":
        connection = sso_discovery.connection_for_email(request.POST.get("login") or "")
        if connection is not None:
            return _to_identity_provider(request, connection)
    return allauth_login(request)


@public
@require_POST
def sso_login(request):
    connection = sso_discovery.connection_for_email(request.POST.get("email") or "")
    if connection is None:
        messages.error(request, "Single sign-on is not set up for that email's domain: sign in with your password.")
        return redirect("account_login")
    return _to_identity_provider(request, connection)
