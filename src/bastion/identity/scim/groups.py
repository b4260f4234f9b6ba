"""/scim/v2/Groups: groups of the organisation's SCIM users, kept as the identity provider pushes them."""

from __future__ import annotations

import uuid

from django.db import transaction
from scim2_models import (
    Context,
    InvalidValueException,
    ListResponse,
    Meta,
    PatchOp,
    ResponseParameters,
    SearchRequest,
    UniquenessException,
)

from bastion.audit import chain as audit
from bastion.identity.models import ScimGroup, ScimGroupMember, ScimIdentity
from bastion.identity.scim.audit_actions import SCIM_GROUP_CREATED, SCIM_GROUP_DELETED, SCIM_GROUP_UPDATED
from bastion.identity.scim.http import ScimRequest, endpoint, no_content, not_found, respond
from bastion.identity.scim.listing import equality, page_of, window
from bastion.identity.scim.resources import Group, GroupMember
from bastion.tenancy.access import NotFound, as_uuid

MAX_NAME = 255


def _identities() -> dict[int, ScimIdentity]:
    """The organisation's SCIM users by account id."""
    return {identity.user_id: identity for identity in ScimIdentity.objects.all()}


def to_resource(request: ScimRequest, group: ScimGroup, identities: dict[int, ScimIdentity]) -> Group:
    members = [
        GroupMember(value=str(identity.id), ref=request.location("user", identity.id), type="User")
        for membership in group.memberships.all()
        if (identity := identities.get(membership.user_id)) is not None
    ]
    return Group(
        id=str(group.id),
        external_id=group.external_id or None,
        display_name=group.display_name,
        members=members or None,
        meta=Meta(resource_type="Group", created=group.created, last_modified=group.last_modified,
                  location=request.location("group", group.id)),
    )


def _load(group_id: str | uuid.UUID) -> ScimGroup:
    try:
        group = ScimGroup.objects.prefetch_related("memberships").filter(id=as_uuid(group_id)).first()
    except NotFound:
        group = None
    if group is None:
        raise not_found("Group")
    return group


def _member_accounts(members: list[GroupMember] | None) -> list[int]:
    """The accounts ``members`` name, in order: each must be a SCIM user of this organisation."""
    by_id = {str(identity.id): identity.user_id for identity in ScimIdentity.objects.all()}
    accounts: list[int] = []
    for member in members or []:
        if member.type not in (None, "User"):
            raise InvalidValueException(detail="Only users can be members of a group.")
        try:
            key = str(as_uuid(member.value))
        except NotFound:
            key = None
        if key not in by_id:
            raise InvalidValueException(detail=f"No user of this organisation has the id {member.value!r}.")
        if by_id[key] not in accounts:
            accounts.append(by_id[key])
    return accounts


def _save(request: ScimRequest, group: ScimGroup, resource: Group) -> ScimGroup:
    created = group._state.adding
    display_name = (resource.display_name or "").strip()
    external_id = resource.external_id or ""
    if not display_name or len(display_name) > MAX_NAME or "\x00" in display_name + external_id or len(external_id) > 255:
        raise InvalidValueException(detail=f"displayName (1-{MAX_NAME} characters) and externalId (at most 255).")
    if ScimGroup.objects.filter(display_name__iexact=display_name).exclude(id=group.id).exists():
        raise UniquenessException(detail="A group of this organisation has this displayName.")
    wanted = _member_accounts(resource.members)
    identities = _identities()
    before = {"display_name": group.display_name, "external_id": group.external_id}
    group.display_name, group.external_id = display_name, external_id
    current = [] if created else [membership.user_id for membership in group.memberships.all()]
    with transaction.atomic():
        group.save()
        ScimGroupMember.objects.filter(group=group).exclude(user_id__in=wanted).delete()
        for user_id in wanted:
            if user_id not in current:
                ScimGroupMember.objects.create(organisation=request.organisation, group=group, user_id=user_id)
        changes = audit.diff({} if created else before, {"display_name": group.display_name,
                                                         "external_id": group.external_id})
        added = [identities[u].user_name for u in wanted if u not in current]
        removed = [identities[u].user_name for u in current if u not in wanted and u in identities]
        if added:
            changes["members_added"] = added
        if removed:
            changes["members_removed"] = removed
        if created or changes:
            audit.record(SCIM_GROUP_CREATED if created else SCIM_GROUP_UPDATED,
                         organisation_id=group.organisation_id, resource_type="scim_group", resource_id=group.id,
                         changes=changes)
    return _load(group.id)


def _answer(request: ScimRequest, group: ScimGroup, scim_ctx: Context, status: int = 200):
    params = ResponseParameters[Group].model_validate(request.query)
    resource = to_resource(request, group, _identities())
    headers = {"Location": request.location("group", group.id)} if status == 201 else {}  # as in its meta
    return respond(resource.model_dump(scim_ctx=scim_ctx, response_parameters=params), status, **headers)


def matching(request: ScimRequest, search: SearchRequest) -> list[Group]:
    groups = ScimGroup.objects.prefetch_related("memberships")
    match equality(search.filter):
        case ("displayname", value):
            groups = groups.filter(display_name__iexact=value.strip())
        case ("externalid", value):
            groups = groups.filter(external_id=value)
    identities = _identities()
    resources = [to_resource(request, group, identities) for group in groups]
    if search.filter:
        resources = [resource for resource in resources if search.filter.match(resource)]
    return search.sort(resources)


def _list(request: ScimRequest, search: SearchRequest, scim_ctx: Context):
    if search.filter is None and search.sort_by is None:  # paging through every group: the database pages
        start, count = window(search)
        groups = ScimGroup.objects.prefetch_related("memberships")
        total, identities = groups.count(), _identities()
        page = [to_resource(request, group, identities) for group in groups[start:start + count]]
    else:
        total, page = page_of(matching(request, search), search)
    response = ListResponse[Group](total_results=total, start_index=search.start_index or 1,
                                   items_per_page=len(page), resources=page)
    return respond(response.model_dump(scim_ctx=scim_ctx, response_parameters=search))


def list_groups(request: ScimRequest):
    return _list(request, SearchRequest[Group].model_validate(request.query), Context.RESOURCE_QUERY_RESPONSE)


def search_groups(request: ScimRequest):
    search = SearchRequest[Group].model_validate(request.json(), scim_ctx=Context.SEARCH_REQUEST)
    return _list(request, search, Context.SEARCH_RESPONSE)


def create_group(request: ScimRequest):
    resource = Group.model_validate(request.json(), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    group = _save(request, ScimGroup(organisation=request.organisation), resource)
    return _answer(request, group, Context.RESOURCE_CREATION_RESPONSE, status=201)


def get_group(request: ScimRequest, group_id: str):
    return _answer(request, _load(group_id), Context.RESOURCE_QUERY_RESPONSE)


def replace_group(request: ScimRequest, group_id: str):
    group = _load(group_id)
    replacement = Group.model_validate(request.json(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    replacement.replace(to_resource(request, group, _identities()))
    return _answer(request, _save(request, group, replacement), Context.RESOURCE_REPLACEMENT_RESPONSE)


def patch_group(request: ScimRequest, group_id: str):
    group = _load(group_id)
    patch = PatchOp[Group].model_validate(request.json(), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
    resource = to_resource(request, group, _identities())
    if patch.patch(resource):
        group = _save(request, group, resource)
    return _answer(request, group, Context.RESOURCE_PATCH_RESPONSE)


def delete_group(request: ScimRequest, group_id: str):
    group = _load(group_id)
    audit.record(SCIM_GROUP_DELETED, organisation_id=group.organisation_id, resource_type="scim_group",
                 resource_id=group.id, changes={"display_name": group.display_name,
                                                "members": group.memberships.count()})
    group.delete()
    return no_content()


groups_endpoint = endpoint(get=list_groups, post=create_group)
groups_search_endpoint = endpoint(post=search_groups)
group_endpoint = endpoint(get=get_group, put=replace_group, patch=patch_group, delete=delete_group)
