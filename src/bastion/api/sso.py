"""The organisation's single sign-on: its identity provider and its verified email domains."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
import uuid

from ninja import Field, Schema, Status

from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import Text, omittable
from bastion.identity.mfa.step_up import step_up_required
from bastion.identity.sso import configuration as sso_configuration
from bastion.identity.sso.models import SSOConnection, VerifiedDomain
from bastion.tenancy.access import NotFound, requires

router = AuthorizingRouter(tags=["single sign-on"])


class SSOConnectionIn(Schema):
    protocol: Text = Field(..., description="oidc or saml")
    enabled: bool = True
    default_role: Text = Field("viewer", description="role given to a member at their first sign-in")
    issuer: Text = Field("", max_length=200, description="OpenID Connect issuer URL (discovery is read from it)")
    client_id: Text = Field("", max_length=255)
    client_secret: Text = omittable(max_length=2000, description="write-only; left out, the stored one is kept")
    idp_entity_id: Text = Field("", max_length=500, description="SAML IdP entity id")
    idp_sso_url: Text = Field("", max_length=500, description="SAML IdP single sign-on URL")
    idp_certificate: Text = Field("", max_length=10000, description="SAML IdP signing certificate (PEM)")
    allow_idp_initiated: bool = Field(False, description="accept SAML sign-ins the IdP starts (off: refused)")


class SSOConnectionOut(Schema):
    protocol: str
    enabled: bool
    default_role: str
    issuer: str
    client_id: str
    has_client_secret: bool
    idp_entity_id: str
    idp_sso_url: str
    allow_idp_initiated: bool
    sign_in_urls: dict


class DomainIn(Schema):
    domain: Text = Field(..., min_length=1, max_length=253)


class DomainOut(Schema):
    id: uuid.UUID
    domain: str
    verified_at: datetime.datetime | None
    txt_record: str = Field(..., description="publish this TXT record at the domain, then ask to verify")


def _connection_out(connection: SSOConnection) -> dict:
    slug = connection.slug
    urls = ({"redirect_uri": f"/accounts/oidc/{slug}/login/callback/"} if connection.protocol == SSOConnection.OIDC
            else {"acs": f"/accounts/saml/{slug}/acs/", "metadata": f"/accounts/saml/{slug}/metadata/"})
    return {**{name: getattr(connection, name) for name in (
        "protocol", "enabled", "default_role", "issuer", "client_id", "idp_entity_id", "idp_sso_url",
        "allow_idp_initiated")}, "has_client_secret": bool(connection.client_secret), "sign_in_urls": urls}


def _domain_out(record: VerifiedDomain) -> dict:
    return {"id": record.id, "domain": record.domain, "verified_at": record.verified_at,
            "txt_record": f"{sso_configuration.TXT_PREFIX}{record.token}"}


def _connection(request) -> SSOConnection:
    connection = SSOConnection.objects.filter(organisation=request.access.organisation).first()
    if connection is None:
        raise NotFound()
    return connection


@router.get("/orgs/{org}/sso", response=SSOConnectionOut)
@requires("organisation.manage")
def get_sso(request, org: str):
    return _connection_out(_connection(request))


@router.put("/orgs/{org}/sso", response=SSOConnectionOut)
@requires("organisation.manage")
@step_up_required
def configure_sso(request, org: str, payload: SSOConnectionIn):
    return _connection_out(sso_configuration.configure(request.access.organisation, configured_by=request.user,
                                                grantor_grants=request.access.grants, **payload.dict()))


@router.delete("/orgs/{org}/sso", response={204: None})
@requires("organisation.manage")
@step_up_required
def remove_sso(request, org: str):
    sso_configuration.remove(_connection(request))
    return Status(204, None)


@router.get("/orgs/{org}/sso/domains", response=list[DomainOut])
@requires("organisation.manage")
def list_domains(request, org: str):
    return [_domain_out(d) for d in VerifiedDomain.objects.order_by("domain")]


@router.post("/orgs/{org}/sso/domains", response={201: DomainOut})
@requires("organisation.manage")
@step_up_required
def add_domain(request, org: str, payload: DomainIn):
    return Status(201, _domain_out(sso_configuration.add_domain(request.access.organisation, payload.domain)))


@router.post("/orgs/{org}/sso/domains/{domain_id}/verify", response=DomainOut)
@requires("organisation.manage")
def verify_domain(request, org: str, domain_id: uuid.UUID):
    return _domain_out(sso_configuration.verify_domain(request.path_objects["domain_id"]))


@router.delete("/orgs/{org}/sso/domains/{domain_id}", response={204: None})
@requires("organisation.manage")
@step_up_required
def remove_domain(request, org: str, domain_id: uuid.UUID):
    sso_configuration.remove_domain(request.path_objects["domain_id"])
    return Status(204, None)
