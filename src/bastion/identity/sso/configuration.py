"""An organisation admin's SSO settings: the connection and the email domains, each change
audited in the same transaction. Domains are proven by a DNS TXT record, as Google Workspace,
Okta and GitHub do: only whoever controls a domain's DNS can route its users."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_domain_name
from django.db import IntegrityError, transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.identity.audit_actions import (
    SSO_CONFIGURED,
    SSO_DOMAIN_ADDED,
    SSO_DOMAIN_REMOVED,
    SSO_DOMAIN_VERIFIED,
    SSO_REMOVED,
)
from bastion.identity.sso.models import SSOConnection, VerifiedDomain
from bastion.tenancy import outbound
from bastion.tenancy.actions import check_grantor
from bastion.tenancy.models import Organisation
from bastion.tenancy.permissions import BUILTIN_ROLES

TXT_PREFIX = "bastion-domain-verification="
# What decides who gets in and with which role: changing any of these re-checks the default role
# against the configuring member's own permissions and makes them its grantor.
VOUCHING_FIELDS = ("protocol", "default_role", "issuer", "client_id", "idp_entity_id", "idp_sso_url",
                   "idp_certificate")
# Provisioning adds members, so configuring it needs the right to add members, besides the role's.
PROVISIONING = frozenset({"members.manage"})
FIELDS = ("protocol", "enabled", "default_role", "issuer", "client_id", "client_secret", "idp_entity_id",
          "idp_sso_url", "idp_certificate", "allow_idp_initiated")


def _audit(action: str, instance, changes: dict) -> None:
    audit.record(action, organisation_id=instance.organisation_id, resource_type=instance._meta.model_name,
                 resource_id=instance.pk, changes=changes)


def _check_url(field: str, url: str, errors: dict, *, fetched_by_the_platform: bool = False) -> None:
    if url and urlsplit(url).scheme != "https" and not settings.BASTION_SSO_ALLOW_HTTP:
        errors[field] = ValidationError("An identity provider is reached over HTTPS.", code="https_required")
    elif url and fetched_by_the_platform:
        # The platform's servers fetch an OIDC issuer's discovery document, keys and tokens: an address in
        # the platform's own network is refused here, and again at every request (sso/guarded_requests.py).
        try:
            outbound.check_url(url, unresolvable_ok=True)
        except outbound.RefusedDestination as exc:
            errors[field] = ValidationError(f"Not a public address: {exc}.", code="private_address")


def configure(organisation: Organisation, *, configured_by=None, grantor_grants: list | None = None,
              **values) -> SSOConnection:
    """Create or replace the organisation's connection. A secret left out keeps the stored one.

    ``grantor_grants`` are the configuring member's grants (``None``: the platform's operator): the
    default role, and any change of identity provider, must be within what they may grant."""
    connection = SSOConnection.objects.filter(organisation=organisation).first() or SSOConnection(
        organisation=organisation, slug=organisation.slug)
    before = {name: getattr(connection, name) for name in VOUCHING_FIELDS}
    was_enabled = None if connection._state.adding else connection.enabled
    for name, value in values.items():
        if name in FIELDS and value is not None:
            setattr(connection, name, value)
    errors: dict = {}
    if connection.protocol not in dict(SSOConnection.PROTOCOLS):
        errors["protocol"] = ValidationError("Either oidc or saml.", code="invalid_choice")
    if connection.default_role not in BUILTIN_ROLES or connection.default_role == "owner":
        errors["default_role"] = ValidationError("A built-in role below owner.", code="invalid_role")
    _check_url("issuer", connection.issuer, errors, fetched_by_the_platform=connection.protocol == SSOConnection.OIDC)
    _check_url("idp_sso_url", connection.idp_sso_url, errors)
    if errors:
        raise ValidationError(errors)
    vouching = connection._state.adding or any(getattr(connection, name) != before[name] for name in VOUCHING_FIELDS)
    if vouching:
        check_grantor(grantor_grants, connection.default_role, organisation, also=PROVISIONING)
        connection.configured_by = configured_by
    connection.full_clean(exclude=["organisation", "slug", "configured_by"])
    changes = {name: ("[redacted]" if name == "client_secret" else getattr(connection, name))
               for name in FIELDS if name in values and values[name] is not None}
    if was_enabled is not None and "enabled" in changes:
        changes["previously_enabled"] = was_enabled  # security monitoring tells "switched off" from "set up off"
    if vouching:
        changes["configured_by"] = configured_by.get_username() if configured_by else "operator"
    with transaction.atomic():
        connection.save()
        _audit(SSO_CONFIGURED, connection, changes)
    return connection


def remove(connection: SSOConnection) -> None:
    with transaction.atomic():
        _audit(SSO_REMOVED, connection, {"protocol": connection.protocol, "enabled": connection.enabled})
        connection.delete()


def add_domain(organisation: Organisation, domain: str) -> VerifiedDomain:
    domain = (domain or "").strip().lower().rstrip(".")
    try:
        validate_domain_name(domain)
        if "." not in domain:
            raise ValidationError("not a domain")
    except ValidationError as exc:
        raise ValidationError({"domain": ValidationError("Enter a domain such as example.com.",
                                                         code="invalid_domain")}) from exc
    record = VerifiedDomain(organisation=organisation, domain=domain, token=secrets.token_urlsafe(24))
    try:
        with transaction.atomic():
            record.save()
            _audit(SSO_DOMAIN_ADDED, record, {"domain": domain})
    except IntegrityError as exc:
        raise ValidationError({"domain": ValidationError("This domain is already claimed here.",
                                                         code="duplicate_domain")}) from exc
    return record


def txt_records(domain: str) -> list[str]:
    resolver = dns.resolver.Resolver(configure=not settings.BASTION_DNS_NAMESERVERS)
    if settings.BASTION_DNS_NAMESERVERS:
        resolver.nameservers = [server.rpartition(":")[0] if ":" in server else server
                                for server in settings.BASTION_DNS_NAMESERVERS]
        ports = {int(server.rpartition(":")[2]) for server in settings.BASTION_DNS_NAMESERVERS if ":" in server}
        if ports:
            resolver.port = ports.pop()
    resolver.lifetime = 5
    try:
        answer = resolver.resolve(domain, "TXT")
    except (dns.exception.DNSException, OSError):
        return []
    return [b"".join(record.strings).decode(errors="replace") for record in answer]


def verify_domain(record: VerifiedDomain) -> VerifiedDomain:
    """Look for the TXT record now; verified once it is there (and no other organisation has it)."""
    if record.verified_at is not None:
        return record
    if f"{TXT_PREFIX}{record.token}" not in txt_records(record.domain):
        raise ValidationError({"domain": ValidationError(
            f"No TXT record {TXT_PREFIX}{record.token} found at {record.domain} yet.", code="not_verified")})
    try:
        with transaction.atomic():
            record.verified_at = timezone.now()
            record.save(update_fields=["verified_at"])
            _audit(SSO_DOMAIN_VERIFIED, record, {"domain": record.domain})
    except IntegrityError as exc:
        raise ValidationError({"domain": ValidationError("Another organisation has verified this domain.",
                                                         code="domain_taken")}) from exc
    return record


def remove_domain(record: VerifiedDomain) -> None:
    with transaction.atomic():
        _audit(SSO_DOMAIN_REMOVED, record, {"domain": record.domain})
        record.delete()
