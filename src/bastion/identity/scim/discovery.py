"""Discovery (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes, /Schemas, each derived from the
resource classes by scim2-models, so what is published and what is served cannot drift apart."""

from __future__ import annotations

from scim2_models import Context, ListResponse, ResourceType, Schema, SearchRequest

from bastion.identity.scim.http import ScimRequest, endpoint, not_found, respond
from bastion.identity.scim.listing import page_of
from bastion.identity.scim.resources import CONFIG, PROVIDER


def _listed(request: ScimRequest, model, items) -> dict:
    search = SearchRequest[model].model_validate(request.query)
    total, page = page_of(list(items), search)
    response = ListResponse[model](total_results=total, start_index=search.start_index or 1,
                                   items_per_page=len(page), resources=page)
    return response.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def _one(items, item_id: str, what: str) -> dict:
    for item in items:
        if item.id == item_id:
            return item.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    raise not_found(what)


def service_provider_config(request: ScimRequest):
    return respond(CONFIG.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def resource_types(request: ScimRequest):
    return respond(_listed(request, ResourceType, PROVIDER.resource_types))


def resource_type(request: ScimRequest, type_id: str):
    return respond(_one(PROVIDER.resource_types, type_id, "Resource type"))


def schemas(request: ScimRequest):
    return respond(_listed(request, Schema, PROVIDER.schemas))


def schema(request: ScimRequest, schema_id: str):
    return respond(_one(PROVIDER.schemas, schema_id, "Schema"))


service_provider_config_endpoint = endpoint(get=service_provider_config)
resource_types_endpoint = endpoint(get=resource_types)
resource_type_endpoint = endpoint(get=resource_type)
schemas_endpoint = endpoint(get=schemas)
schema_endpoint = endpoint(get=schema)
