"""The SCIM resources Bastion serves, as ``scim2-models`` classes, and what discovery publishes.

Only the attributes Bastion keeps are declared, so ``/Schemas`` tells an identity provider exactly
what is stored, and whatever it sends of them it reads back unchanged. Attributes of the RFC's
schema that Bastion has no use for (phone numbers, addresses, passwords …) are ignored when sent:
data minimisation, and tolerance of providers that send everything they have.
"""

# No "from __future__ import annotations": pydantic reads these annotations at runtime.
from typing import Annotated, Any, ClassVar

from pydantic import EmailStr, Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Filter,
    Mutability,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    Schema,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)
from scim2_models import Email as RFCEmail

MAX_RESULTS = 200


class Name(ComplexAttribute):
    family_name: str | None = None
    given_name: str | None = None


class Email(RFCEmail):
    """An email address of the user; an entry without an address means nothing, so ``value`` is required."""

    value: Annotated[EmailStr | None, Required.true] = None


class User(Resource[Any]):
    """A person in the organisation: a Bastion account (signed in by email address) and its membership.

    ``emails`` is required because a Bastion account is an email address: userName when it is one,
    otherwise the primary email. When a provider leaves ``emails`` out and userName is an address,
    Bastion fills it in from userName."""

    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:User")

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    name: Name | None = None
    Name: ClassVar[type[ComplexAttribute]] = Name
    emails: Annotated[list[Email] | None, Required.true] = None
    Emails: ClassVar[type[ComplexAttribute]] = Email
    active: bool | None = None


class GroupMember(ComplexAttribute):
    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    ref: Annotated[Reference["User"] | None, Mutability.immutable] = Field(  # noqa: F821  (a SCIM resource type name)
        None, serialization_alias="$ref", validation_alias="$ref")
    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])


class Group(Resource[Any]):
    """A group of users of the organisation, as the identity provider keeps it."""

    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:Group")

    display_name: Annotated[str | None, Required.true, Uniqueness.server] = None
    members: list[GroupMember] | None = None
    Members: ClassVar[type[ComplexAttribute]] = GroupMember


# What identity providers actually send: unknown attributes (ignored), a PATCH remove with a value
# and a filtered PATCH path that matches nothing yet (both as Microsoft Entra sends them).
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

CONFIG = ServiceProviderConfig(
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=True),
    etag=ETag(supported=False),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="Bearer token",
            description="The organisation's SCIM token, made by an admin at POST /api/v1/orgs/{org}/scim-token: "
                        "Authorization: Bearer bst_…",
            primary=True,
        )
    ],
)

PROVIDER = ScimProvider(
    models=[User, Group, Schema, ResourceType, ServiceProviderConfig],
    resource_types=[ResourceType.from_resource(User), ResourceType.from_resource(Group)],
    config=CONFIG,
    policy=POLICY,
)
