"""Single sign-on per organisation: its identity provider (OpenID Connect or SAML 2.0) and the
email domains it has proved it owns, whose users are sent to that provider."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from bastion.crypto.fields import EncryptedTextField
from bastion.tenancy.models import TenantModel


class SSOConnection(TenantModel):
    OIDC, SAML = "oidc", "saml"
    PROTOCOLS = [(OIDC, "OpenID Connect"), (SAML, "SAML 2.0")]

    # One connection per organisation; its slug names it in the sign-in URLs (/accounts/oidc/<slug>/…,
    # /accounts/saml/<slug>/…), so it is found before any tenant is known.
    slug = models.SlugField(max_length=50, unique=True)
    protocol = models.CharField(max_length=10, choices=PROTOCOLS)
    enabled = models.BooleanField(default=True)
    default_role = models.CharField(max_length=20, default="viewer",
                                    help_text="the role of a member created at their first sign-in")
    # Who vouched for the default role and the identity provider: members it provisions are granted
    # on their behalf, within what that person may grant at the time of each sign-in.
    configured_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    # OpenID Connect
    issuer = models.URLField(blank=True)
    client_id = models.CharField(max_length=255, blank=True)
    client_secret = EncryptedTextField(blank=True, default="")
    # SAML 2.0
    idp_entity_id = models.CharField(max_length=500, blank=True)
    idp_sso_url = models.URLField(max_length=500, blank=True)
    idp_certificate = models.TextField(blank=True, help_text="the IdP's signing certificate (PEM)")
    allow_idp_initiated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation"], name="identity_sso_one_per_org")]

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} for {self.slug}"

    def clean(self) -> None:
        required = {self.OIDC: ("issuer", "client_id", "client_secret"),
                    self.SAML: ("idp_entity_id", "idp_sso_url", "idp_certificate")}[self.protocol]
        missing = {name: ValidationError("Required for this protocol.", code="required")
                   for name in required if not getattr(self, name)}
        if missing:
            raise ValidationError(missing)


class VerifiedDomain(TenantModel):
    """An email domain an organisation claims; verified when its DNS holds the TXT record
    ``bastion-domain-verification=<token>``. Only verified domains route users to SSO or accept
    identities from the organisation's IdP."""

    domain = models.CharField(max_length=253)
    token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain"], condition=models.Q(verified_at__isnull=False),
                                               name="identity_domain_verified_once"),
                       models.UniqueConstraint(fields=["organisation", "domain"], name="identity_domain_per_org")]

    def __str__(self) -> str:
        return self.domain
