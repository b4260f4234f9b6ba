"""Finding an organisation's SSO connection before any tenant is known (from a sign-in URL or an
email's domain), and presenting it to allauth as the ``SocialApp`` its providers expect.

Row-level security shows a connection or a verified domain to an anonymous request only when the
transaction names it (``bastion.sso_slug`` / ``bastion.email_domain``), as API keys are found.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.db import transaction

from bastion.db.rls import setting
from bastion.identity.sso.models import SSOConnection, VerifiedDomain
from bastion.identity.sso.saml_replay import ReplayCheckedSAMLProvider
from bastion.tenancy import context

PROVIDER_OF = {SSOConnection.OIDC: "openid_connect", SSOConnection.SAML: "saml"}


def connection_by_slug(slug: str) -> SSOConnection | None:
    with transaction.atomic(), setting("bastion.sso_slug", slug or ""):
        return SSOConnection.all_tenants.filter(slug=slug, enabled=True).first()


def connection_for_email(email: str) -> SSOConnection | None:
    """The SSO connection that owns ``email``'s domain (verified), if any."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    with transaction.atomic(), setting("bastion.email_domain", domain):
        owner = VerifiedDomain.all_tenants.filter(domain=domain, verified_at__isnull=False).first()
    if owner is None:
        return None
    with context.tenant_context(owner.organisation_id):
        return SSOConnection.objects.filter(enabled=True).first()


def domain_is_verified_for(connection: SSOConnection, email: str) -> bool:
    return organisation_owns_address(connection.organisation_id, email)


def organisation_owns_address(organisation_id, email: str) -> bool:
    """Whether ``email`` is on one of the organisation's verified domains (proven by DNS)."""
    domain = email.rpartition("@")[2].strip().lower()
    with context.tenant_context(organisation_id):
        return VerifiedDomain.objects.filter(domain=domain, verified_at__isnull=False).exists()


def social_app(connection: SSOConnection) -> SocialApp:
    """An unsaved ``SocialApp`` for allauth: the client secret stays encrypted in our table."""
    provider = PROVIDER_OF[connection.protocol]
    app = SocialApp(provider=provider, provider_id=connection.slug, name=f"SSO for {connection.slug}")
    if connection.protocol == SSOConnection.OIDC:
        with context.tenant_context(connection.organisation_id):
            secret = str(connection.client_secret)
        app.client_id, app.secret = connection.client_id, secret
        app.settings = {"server_url": connection.issuer, "fetch_userinfo": True, "oauth_pkce_enabled": True}
    else:
        app.client_id = connection.slug
        app.settings = {
            "idp": {"entity_id": connection.idp_entity_id, "sso_url": connection.idp_sso_url,
                    "x509cert": connection.idp_certificate},
            "attribute_mapping": {"uid": "email", "email": "email", "first_name": "firstName",
                                  "last_name": "lastName"},
            "advanced": {
                "strict": True,
                "want_assertion_signed": True,  # an unsigned assertion is refused
                "reject_idp_initiated_sso": not connection.allow_idp_initiated,
                "reject_deprecated_algorithm": True,
            },
        }
        # allauth builds the provider from the app: ours keeps the assertion's id for the replay check.
        app.get_provider = lambda request: ReplayCheckedSAMLProvider(request, app=app)
    app.settings["bastion_connection_id"] = str(connection.id)
    return app


def clock_skew_seconds() -> int:
    return settings.BASTION_SSO_CLOCK_SKEW_SECONDS
