"""POST /scim/v2/.search: one query over every resource type (RFC 7644 §3.4.3)."""

from __future__ import annotations

from scim2_models import Context, ListResponse, SearchRequest

from bastion.identity.scim import groups, users
from bastion.identity.scim.http import ScimRequest, endpoint, respond
from bastion.identity.scim.listing import page_of
from bastion.identity.scim.resources import Group, User


def search_all(request: ScimRequest):
    search = SearchRequest[User | Group].model_validate(request.json(), scim_ctx=Context.SEARCH_REQUEST)
    # Each collection filters with the union's filter; an attribute only the other type has is false there.
    resources: list[User | Group] = [*users.matching(request, search), *groups.matching(request, search)]
    total, page = page_of(search.sort(resources), search)
    response = ListResponse[User | Group](total_results=total, start_index=search.start_index or 1,
                                          items_per_page=len(page), resources=page)
    return respond(response.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search))


search_endpoint = endpoint(post=search_all)
