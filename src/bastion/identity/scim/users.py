"""/scim/v2/Users: create, read, list and search, replace, patch, delete (RFC 7644 §3)."""

from __future__ import annotations

from scim2_models import Context, ListResponse, Meta, PatchOp, ResponseParameters, SearchRequest

from bastion.identity.models import ScimIdentity
from bastion.identity.scim import provisioning
from bastion.identity.scim.http import ScimRequest, endpoint, no_content, not_found, respond
from bastion.identity.scim.listing import equality, page_of, window
from bastion.identity.scim.resources import Email, Name, User
from bastion.tenancy.access import NotFound, as_uuid


def to_resource(request: ScimRequest, identity: ScimIdentity, members: set[int]) -> User:
    name = None
    if identity.given_name or identity.family_name:
        name = Name(given_name=identity.given_name or None, family_name=identity.family_name or None)
    return User(
        id=str(identity.id),
        external_id=identity.external_id or None,
        user_name=identity.user_name,
        name=name,
        emails=[Email.model_validate(email) for email in identity.emails] or None,
        active=provisioning.effective_active(identity, identity.user_id in members),
        meta=Meta(resource_type="User", created=identity.created, last_modified=identity.last_modified,
                  location=request.location("user", identity.id)),
    )


def _data(resource: User) -> provisioning.UserData:
    return provisioning.UserData(
        user_name=resource.user_name or "",
        external_id=resource.external_id or "",
        given_name=(resource.name.given_name or "") if resource.name else "",
        family_name=(resource.name.family_name or "") if resource.name else "",
        emails=[email.model_dump(mode="json", exclude_none=True) for email in resource.emails or []],
        active=resource.active,
    )


def _with_default_emails(body: dict) -> dict:
    """Bastion needs an address; a provider that sends only an email-shaped userName has given one."""
    keys = {key.lower(): key for key in body}
    user_name = body.get(keys.get("username", ""), None)
    if "emails" not in keys and isinstance(user_name, str) and provisioning.is_email(user_name):
        body = {**body, "emails": [{"value": user_name, "primary": True}]}
    return body


def _load(scim_id: str) -> ScimIdentity:
    try:
        identity = ScimIdentity.objects.select_related("user").filter(id=as_uuid(scim_id)).first()
    except NotFound:
        identity = None
    if identity is None:
        raise not_found("User")
    return identity


def _answer(request: ScimRequest, identity: ScimIdentity, scim_ctx: Context, status: int = 200):
    params = ResponseParameters[User].model_validate(request.query)
    resource = to_resource(request, identity, provisioning.organisation_members())
    headers = {"Location": request.location("user", identity.id)} if status == 201 else {}  # as in its meta
    return respond(resource.model_dump(scim_ctx=scim_ctx, response_parameters=params), status, **headers)


def matching(request: ScimRequest, search: SearchRequest) -> list[User]:
    """The organisation's users a query selects, sorted (not yet paged)."""
    identities = ScimIdentity.objects.select_related("user")
    match equality(search.filter):
        case ("username", value):
            identities = identities.filter(user_name=value.strip().lower())
        case ("externalid", value):
            identities = identities.filter(external_id=value)
    members = provisioning.organisation_members()
    resources = [to_resource(request, identity, members) for identity in identities]
    if search.filter:
        resources = [resource for resource in resources if search.filter.match(resource)]
    return search.sort(resources)


def _list(request: ScimRequest, search: SearchRequest, scim_ctx: Context):
    if search.filter is None and search.sort_by is None:  # paging through everyone: the database pages
        start, count = window(search)
        identities = ScimIdentity.objects.select_related("user")
        total, members = identities.count(), provisioning.organisation_members()
        page = [to_resource(request, identity, members) for identity in identities[start:start + count]]
    else:
        total, page = page_of(matching(request, search), search)
    response = ListResponse[User](total_results=total, start_index=search.start_index or 1,
                                  items_per_page=len(page), resources=page)
    return respond(response.model_dump(scim_ctx=scim_ctx, response_parameters=search))


def list_users(request: ScimRequest):
    return _list(request, SearchRequest[User].model_validate(request.query), Context.RESOURCE_QUERY_RESPONSE)


def search_users(request: ScimRequest):
    search = SearchRequest[User].model_validate(request.json(), scim_ctx=Context.SEARCH_REQUEST)
    return _list(request, search, Context.SEARCH_RESPONSE)


def create_user(request: ScimRequest):
    resource = User.model_validate(_with_default_emails(request.json()), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    identity = provisioning.create_user(request.principal, _data(resource))
    return _answer(request, identity, Context.RESOURCE_CREATION_RESPONSE, status=201)


def get_user(request: ScimRequest, scim_id: str):
    return _answer(request, _load(scim_id), Context.RESOURCE_QUERY_RESPONSE)


def replace_user(request: ScimRequest, scim_id: str):
    identity = _load(scim_id)
    current = to_resource(request, identity, provisioning.organisation_members())
    replacement = User.model_validate(_with_default_emails(request.json()),
                                      scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    replacement.replace(current)
    provisioning.update_user(request.principal, identity, _data(replacement))
    return _answer(request, identity, Context.RESOURCE_REPLACEMENT_RESPONSE)


def patch_user(request: ScimRequest, scim_id: str):
    identity = _load(scim_id)
    patch = PatchOp[User].model_validate(request.json(), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
    resource = to_resource(request, identity, provisioning.organisation_members())
    if patch.patch(resource):
        provisioning.update_user(request.principal, identity, _data(resource))
    return _answer(request, identity, Context.RESOURCE_PATCH_RESPONSE)


def delete_user(request: ScimRequest, scim_id: str):
    provisioning.delete_user(request.principal, _load(scim_id))
    return no_content()


users_endpoint = endpoint(get=list_users, post=create_user)
users_search_endpoint = endpoint(post=search_users)
user_endpoint = endpoint(get=get_user, put=replace_user, patch=patch_user, delete=delete_user)
