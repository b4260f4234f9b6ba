"""/scim/v2/: the SCIM service provider of the organisation whose token the request carries."""

from django.urls import path, re_path

from bastion.identity.scim import discovery, groups, search, users
from bastion.identity.scim.http import unknown

app_name = "scim"

urlpatterns = [
    path("ServiceProviderConfig", discovery.service_provider_config_endpoint, name="service_provider_config"),
    path("ResourceTypes", discovery.resource_types_endpoint, name="resource_types"),
    path("ResourceTypes/<str:type_id>", discovery.resource_type_endpoint, name="resource_type"),
    path("Schemas", discovery.schemas_endpoint, name="schemas"),
    path("Schemas/<str:schema_id>", discovery.schema_endpoint, name="schema"),
    path("Users", users.users_endpoint, name="users"),
    path("Users/.search", users.users_search_endpoint, name="users_search"),
    path("Users/<str:scim_id>", users.user_endpoint, name="user"),
    path("Groups", groups.groups_endpoint, name="groups"),
    path("Groups/.search", groups.groups_search_endpoint, name="groups_search"),
    path("Groups/<str:group_id>", groups.group_endpoint, name="group"),
    path(".search", search.search_endpoint, name="search"),
    re_path(r"^(?P<path>.*)$", unknown, name="unknown"),
]
