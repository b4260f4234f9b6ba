"""django-allauth's social accounts as per-organisation SSO (OpenID Connect and SAML 2.0).

- Connections live in our own table (client secrets encrypted), not in allauth's ``SocialApp``:
  ``list_apps`` builds them on demand, and never lists them all (the sign-in page must not name
  every customer's identity provider).
- An IdP vouches only for addresses of its organisation's verified domains: any other identity is
  refused, so one customer's IdP cannot sign in another customer's users.
- First sign-in provisions the user just in time into the connection's default role; an existing
  account with that address is linked, which is safe because the domain is proven to be theirs.
"""

from __future__ import annotations

from typing import NoReturn

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import render

from bastion.audit import chain as audit
from bastion.identity import invitations
from bastion.identity.audit_actions import AUTH_SSO_FAILED, AUTH_SSO_REFUSED
from bastion.identity.sso import configuration as sso_configuration
from bastion.identity.sso import discovery as sso_discovery
from bastion.identity.sso import guarded_requests, saml_replay
from bastion.identity.sso.models import SSOConnection
from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership, Organisation


def _connection_of(sociallogin_or_provider) -> SSOConnection | None:
    """The connection behind a provider (its app names it) or a social login (its account's
    provider is the connection's slug)."""
    app = getattr(sociallogin_or_provider, "app", None)
    slug = (app.provider_id or app.client_id) if app is not None else sociallogin_or_provider.account.provider
    return sso_discovery.connection_by_slug(slug)


def _record(connection: SSOConnection, action: str, **changes) -> None:
    with context.tenant_context(connection.organisation_id):
        audit.record(action, organisation_id=connection.organisation_id, resource_type="sso_connection",
                     resource_id=connection.id, changes=changes)


def _refuse(request, connection: SSOConnection | None, email: str, reason: str) -> NoReturn:
    if connection is not None:
        with transaction.atomic():
            _record(connection, AUTH_SSO_REFUSED, email=email[:254], reason=reason)
    raise ImmediateHttpResponse(render(request, "identity/sso_refused.html", {"reason": reason}, status=403))


def _is_member(connection: SSOConnection, user) -> bool:
    if user.pk is None:
        return False
    with context.tenant_context(connection.organisation_id):
        return Membership.objects.filter(user_id=user.pk, workspace=None, project=None).exists()


def _configurer_grants(connection: SSOConnection) -> list[Membership] | None:
    """The organisation-wide grants of whoever configured the connection; None when that is unknown."""
    if connection.configured_by_id is None:
        return None
    return list(Membership.objects.filter(user_id=connection.configured_by_id, workspace=None, project=None)
                .select_related("custom_role"))


def provisioning_refusal(connection: SSOConnection) -> str | None:
    """Why the connection may not provision anyone now, or None. Its default role is granted on
    behalf of whoever configured it, within what they may grant *today*: one who has since lost the
    right (or left) no longer vouches for anyone. A connection whose grantor is unknown (configured
    before grantors were recorded, or by a since deleted account) provisions viewers only."""
    with context.tenant_context(connection.organisation_id):
        grants = _configurer_grants(connection)
        if grants is None:
            return None if connection.default_role == "viewer" else "default_role_without_grantor"
        organisation = Organisation.objects.get(id=connection.organisation_id)
        try:
            actions.check_grantor(grants, connection.default_role, organisation, also=sso_configuration.PROVISIONING)
        except ValidationError:
            return "default_role_exceeds_grantor"
    return None


def provision(connection: SSOConnection, user) -> None:
    """Make ``user`` a member of the connection's organisation (just-in-time), if not already,
    with the grantor rule applied for the member who configured the connection. Someone the
    organisation invited gets no default role: the invitation they accept decides their role."""
    with context.tenant_context(connection.organisation_id):
        if Membership.objects.filter(user_id=user.pk, workspace=None, project=None).exists():
            return
        if invitations.pending().filter(email__iexact=user.email).exists():
            return
        grants = _configurer_grants(connection)
        if grants is None and connection.default_role != "viewer":
            # pre_social_login refuses this first; a grant on nobody's behalf is never above viewer.
            raise ValidationError("No grantor vouches for this default role.", code="default_role_without_grantor")
        organisation = Organisation.objects.get(id=connection.organisation_id)
        actions.add_membership(organisation, user=user, role=connection.default_role, grantor_grants=grants)


class BastionSocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        slug = client_id if provider == "saml" else provider
        connection = sso_discovery.connection_by_slug(slug) if slug else None
        if connection is None:
            return []
        app = sso_discovery.social_app(connection)
        if provider not in (app.provider, app.provider_id) or (client_id and client_id != app.client_id):
            return []
        return [app]

    def get_requests_session(self):
        from allauth.socialaccount import app_settings

        return guarded_requests.session(timeout=app_settings.REQUESTS_TIMEOUT)

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True  # only identities of the organisation's verified domains get this far

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return True

    def is_email_verified(self, provider, email) -> bool:
        connection = _connection_of(provider)
        return connection is not None and sso_discovery.domain_is_verified_for(connection, email)

    def pre_social_login(self, request, sociallogin) -> None:
        connection = _connection_of(sociallogin)
        email = (sociallogin.user.email or "").strip().lower()
        if connection is None or not email or not sso_discovery.domain_is_verified_for(connection, email):
            _refuse(request, connection, email, "domain_not_verified")
        if not saml_replay.first_use(connection, sociallogin, sso_discovery.clock_skew_seconds()):
            _refuse(request, connection, email, "assertion_replayed")
        for address in sociallogin.email_addresses:
            address.verified = address.email.lower() == email
        existing = sociallogin.user if sociallogin.is_existing else (
            get_user_model().objects.filter(email__iexact=email).first())
        if existing is None or not _is_member(connection, existing):
            if reason := provisioning_refusal(connection):
                _refuse(request, connection, email, reason)
        if sociallogin.is_existing:
            provision(connection, sociallogin.user)
            return
        if existing is not None:
            sociallogin.connect(request, existing)
            provision(connection, existing)

    def save_user(self, request, sociallogin, form=None):
        connection = _connection_of(sociallogin)
        if connection is None:  # removed since pre_social_login let this sign-in through
            _refuse(request, None, "", "domain_not_verified")
        user = super().save_user(request, sociallogin, form)
        provision(connection, user)
        return user

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None) -> None:
        connection = _connection_of(provider) if provider is not None else None
        if connection is not None:
            detail = (extra_context or {}).get("saml_last_error_reason") or (str(exception) if exception else "")
            if exception is not None and exception.__cause__ is not None:  # e.g. the JWT check behind it
                detail = f"{detail}: {exception.__cause__}"
            with transaction.atomic():
                _record(connection, AUTH_SSO_FAILED, error=str(error or "unknown"), detail=detail[:300])
