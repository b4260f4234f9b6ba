"""The isolation matrix, generated from the OpenAPI document and the URL conf.

For every API operation and every console page, each acme role tries globex's ids (and acme's
own organisation with globex's object ids): every attempt is 403 or 404 and no globex data
appears in any response. A viewer's every write attempt is 403. A new endpoint is covered
without editing this file, as long as its path parameters use the names in ``PARAMS``.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from bastion.api import api
from bastion.tenancy.permissions import BUILTIN_ROLES
from tests.conftest import ROLES

PARAMS = {
    "org": lambda o: o.slug,
    "workspace_id": lambda o: o.workspace.id,
    "project_id": lambda o: o.project.id,
    "emission_id": lambda o: o.emission.id,
    "energy_id": lambda o: o.energy.id,
    "supplier_id": lambda o: o.supplier.id,
    "evidence_id": lambda o: o.evidence.id,
    "membership_id": lambda o: o.viewer_membership.id,
    "role_id": lambda o: o.custom_role.id,
    "api_key_id": lambda o: o.api_key.id,
    "credential_id": lambda o: o.credential.id,
    "artifact_id": lambda o: o.export.id,
    "domain_id": lambda o: o.domain.id,
    "invitation_id": lambda o: o.invitation.id,
    "notice_id": lambda o: o.notice.id,
    "incident_id": lambda o: o.notice.incident.id,
    "witness_id": lambda o: o.witness.id,
    "access_request_id": lambda o: o.access_request.id,
    "siem_destination_id": lambda o: o.siem_destination.id,
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _api_operations() -> list[tuple[str, str, dict]]:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return [
        (method, path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


ALL_API_OPERATIONS = _api_operations()
# Deliberately open to anyone. Adding to this list is a security decision: it is pinned here so
# that it shows up in review.
PUBLIC_OPERATIONS = {("get", "/api/v1/audit/public-keys")}
API_OPERATIONS = [op for op in ALL_API_OPERATIONS if (op[0], op[1]) not in PUBLIC_OPERATIONS]


def _fill(template: str, org_ns, ids_ns=None) -> str:
    ids_ns = ids_ns or org_ns

    def value(match: re.Match) -> str:
        name = match.group(1)
        assert name in PARAMS, f"path parameter {name!r} has no entry in PARAMS: add one so the matrix covers it"
        return str(PARAMS[name](org_ns if name == "org" else ids_ns))

    return re.sub(r"{(\w+)}", value, template)


def _secrets_of(org_ns) -> list[str]:
    """Identifiers and names that must never appear in a response to another organisation."""
    values = [
        org_ns.organisation.id, org_ns.organisation.name, org_ns.workspace.id, org_ns.workspace.name,
        org_ns.project.id, org_ns.other_project.id, org_ns.supplier.id, org_ns.supplier.name,
        org_ns.supplier.contact_email, org_ns.energy.id, org_ns.evidence.id, org_ns.custom_role.id,
        org_ns.viewer_membership.id, org_ns.api_key.id, org_ns.api_key.public_id, *(r.id for r in org_ns.emissions),
        *(u.email for u in org_ns.users.values()), org_ns.invitation.id, org_ns.invitation.email,
        org_ns.access_request.id, org_ns.access_request.reference,
        org_ns.siem_destination.id, org_ns.siem_destination.url,
    ]
    return [str(v) for v in values]


def _assert_no_leak(response, org_ns, what: str) -> None:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    for secret in _secrets_of(org_ns):
        assert secret not in text, f"{what}: response leaks {secret!r}"


def _call(client, method: str, url: str):
    if method in ("post", "put", "patch"):
        return getattr(client, method)(url, data=json.dumps({}), content_type="application/json")
    return getattr(client, method)(url)


def _operation_id(item) -> str:
    method, path, _ = item
    return f"{method.upper()} {path}"


def test_matrix_covers_the_whole_api():
    assert len(API_OPERATIONS) >= 35
    for method, path, operation in ALL_API_OPERATIONS:
        if (method, path) in PUBLIC_OPERATIONS:
            assert not operation.get("security"), f"{method.upper()} {path} is listed public but asks for a credential"
        else:
            assert operation.get("security"), f"{method.upper()} {path} has no authentication"


@pytest.mark.parametrize("item", API_OPERATIONS, ids=_operation_id)
def test_api_operation_gives_outsiders_nothing(item, world, client_for):
    method, path, _ = item
    acme, globex = world.acme, world.globex
    for role in ROLES:
        client = client_for(acme.users[role])
        has_org = "{org}" in path
        # 1. Globex's organisation and ids.
        response = _call(client, method, _fill(path, globex))
        if has_org:
            assert response.status_code == 404, f"{role}: {method} {path} → {response.status_code}"
        _assert_no_leak(response, globex, f"{role} {method} {path}")
        # 2. Acme's organisation with globex's object ids.
        if has_org and re.search(r"{(?!org})\w+}", path):
            response = _call(client, method, _fill(path, acme, globex))
            assert response.status_code in (403, 404), f"{role}: {method} {path} (acme org, globex ids) → {response.status_code}"
            _assert_no_leak(response, globex, f"{role} {method} {path} (acme org)")
        # 3. Acme's own objects: whatever comes back holds nothing of globex.
        if method == "get":
            response = _call(client, method, _fill(path, acme))
            assert response.status_code < 500
            _assert_no_leak(response, globex, f"{role} GET {path} (own)")


# Writes on an organisation's resources. (Founding a new organisation, POST /orgs, writes nothing of
# acme's and is open to any signed-in user: tests/api/test_organisations_api.py covers it.)
ORGANISATION_WRITES = [op for op in API_OPERATIONS if op[0] in WRITE_METHODS and "{org}" in op[1]]


# Besides founding one: a person's own rights, which act on the caller only (tests/privacy/), and the
# platform staff's queue of requests that arrived by email (staff only).
WRITES_OUTSIDE_AN_ORGANISATION = [
    ("post", "/api/v1/orgs"),
    ("post", "/api/v1/me/export"),
    ("patch", "/api/v1/me/profile"),
    ("post", "/api/v1/me/deletion"),
    ("delete", "/api/v1/me/deletion"),
    ("post", "/api/v1/privacy/requests"),
    ("post", "/api/v1/privacy/requests/update"),
    ("post", "/api/v1/staff/incidents"),  # platform staff of the security role only: 404 to everyone else
    ("post", "/api/v1/staff/incidents/{incident_id}/command"),
    ("post", "/api/v1/staff/incidents/{incident_id}/phase"),
    ("post", "/api/v1/staff/incidents/{incident_id}/notes"),
]


def test_only_founding_an_organisation_is_a_write_outside_one():
    outside = [(m, p) for m, p, _ in API_OPERATIONS if m in WRITE_METHODS and "{org}" not in p]
    assert outside == WRITES_OUTSIDE_AN_ORGANISATION


@pytest.mark.parametrize("item", ORGANISATION_WRITES, ids=_operation_id)
def test_api_viewer_can_not_write(item, world, client_for):
    method, path, _ = item
    response = _call(client_for(world.acme.users["viewer"]), method, _fill(path, world.acme))
    assert response.status_code == 403, f"viewer {method} {path} → {response.status_code}: {response.content[:200]}"
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("item", API_OPERATIONS, ids=_operation_id)
def test_api_requires_a_credential(item, world, client):
    method, path, _ = item
    response = _call(client, method, _fill(path, world.acme))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


# Console -----------------------------------------------------------------------------------


def non_api_patterns(resolver=None, prefix="", namespace=""):
    """(namespace, route, pattern) of every URL outside the JSON API."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "api":
                continue
            yield from non_api_patterns(entry, prefix + str(entry.pattern), entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield namespace, prefix + str(entry.pattern), entry


CONSOLE_PAGES = [
    (route, pattern)
    for namespace, route, pattern in non_api_patterns()
    if namespace == "console" and getattr(pattern.callback, "required_permission", None)
]


def _fill_route(route: str, org_ns, ids_ns=None) -> str:
    ids_ns = ids_ns or org_ns

    def value(match: re.Match) -> str:
        name = match.group(2)
        assert name in PARAMS, f"URL kwarg {name!r} has no entry in PARAMS"
        return str(PARAMS[name](org_ns if name == "org" else ids_ns))

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def test_console_matrix_is_not_empty():
    assert len(CONSOLE_PAGES) >= 20


@pytest.mark.parametrize("page", CONSOLE_PAGES, ids=lambda p: p[0])
def test_console_page_gives_outsiders_nothing(page, world, client_for):
    route, pattern = page
    acme, globex = world.acme, world.globex
    for role in ROLES:
        client = client_for(acme.users[role])
        for method in ("get", "post"):
            response = getattr(client, method)(_fill_route(route, globex))
            assert response.status_code == 404, f"{role} {method} /{route} (globex) → {response.status_code}"
            _assert_no_leak(response, globex, f"{role} {method} {route}")
            if re.search(r"<(?:\w+:)?(?!org>)\w+>", route):
                response = getattr(client, method)(_fill_route(route, acme, globex))
                # A POST-only page answers a GET with 405 whatever the id: that reveals nothing.
                refusals = (403, 404, 405) if method == "get" else (403, 404)
                assert response.status_code in refusals, f"{role} {method} /{route} (acme org) → {response.status_code}"
                _assert_no_leak(response, globex, f"{role} {method} {route} (acme org)")


@pytest.mark.parametrize(
    "page",
    [p for p in CONSOLE_PAGES if p[1].callback.required_permission not in BUILTIN_ROLES["viewer"]],
    ids=lambda p: p[0],
)
def test_console_viewer_can_not_write(page, world, client_for):
    route, pattern = page
    client = client_for(world.acme.users["viewer"])
    for method in ("get", "post"):
        response = getattr(client, method)(_fill_route(route, world.acme))
        assert response.status_code == 403, f"viewer {method} /{route} → {response.status_code}"


@pytest.mark.parametrize("item", [op for op in API_OPERATIONS if "{org}" in op[1]], ids=_operation_id)
def test_api_key_gives_outsiders_nothing(item, world, client):
    """The same matrix with acme's API key as the principal (it can read records and evidence)."""
    method, path, _ = item
    acme, globex = world.acme, world.globex
    headers = {"HTTP_AUTHORIZATION": f"Bearer {acme.api_token}"}
    response = getattr(client, method)(_fill(path, globex), **headers)
    assert response.status_code == 404, f"{method} {path} (globex) → {response.status_code}"
    _assert_no_leak(response, globex, f"key {method} {path}")
    if re.search(r"{(?!org})\w+}", path):
        response = getattr(client, method)(_fill(path, acme, globex), **headers)
        assert response.status_code in (403, 404), f"{method} {path} (acme org, globex ids) → {response.status_code}"
        _assert_no_leak(response, globex, f"key {method} {path} (acme org)")
    if method in WRITE_METHODS:
        response = getattr(client, method)(_fill(path, acme), **headers)
        assert response.status_code == 403, f"read-only key {method} {path} → {response.status_code}"


# Outsiders anyone can become (issue 12): the owner of an organisation founded a moment ago, and
# another organisation's SCIM token (anyone may found an organisation and make one).


@pytest.fixture
def founder(world, client_for):
    """A brand-new user who founded their own organisation and holds every power in it."""
    from django.contrib.auth import get_user_model

    from bastion.tenancy import actions
    from tests.conftest import PASSWORD

    user = get_user_model().objects.create_user(email="founder@initech.example", password=PASSWORD,
                                                email_verified=True)
    actions.create_organisation(name="Initech", slug="initech", owner=user)
    return client_for(user)


@pytest.mark.parametrize("item", [op for op in API_OPERATIONS if "{org}" in op[1]], ids=_operation_id)
def test_a_freshly_founded_organisations_owner_gets_nothing(item, world, founder):
    method, path, _ = item
    for org_ns in (world.acme, world.globex):
        response = _call(founder, method, _fill(path, org_ns))
        assert response.status_code == 404, f"founder {method} {path} ({org_ns.slug}) → {response.status_code}"
        _assert_no_leak(response, org_ns, f"founder {method} {path}")


@pytest.mark.parametrize("page", CONSOLE_PAGES, ids=lambda p: p[0])
def test_a_freshly_founded_organisations_owner_gets_no_console_page(page, world, founder):
    route, _pattern = page
    for method in ("get", "post"):
        response = getattr(founder, method)(_fill_route(route, world.acme))
        assert response.status_code == 404, f"founder {method} /{route} → {response.status_code}"
        _assert_no_leak(response, world.acme, f"founder {method} {route}")


@pytest.fixture
def globex_scim_token(world):
    from bastion.identity.scim import tokens
    from bastion.tenancy import context

    with context.tenant_context(world.globex.organisation.id):
        return tokens.create(world.globex.organisation, creator=world.globex.users["owner"])[1]


@pytest.mark.parametrize("item", [op for op in API_OPERATIONS if "{org}" in op[1]], ids=_operation_id)
def test_another_organisations_scim_token_gets_nothing_from_the_api(item, world, client, globex_scim_token):
    method, path, _ = item
    headers = {"HTTP_AUTHORIZATION": f"Bearer {globex_scim_token}"}
    for org_ns in (world.acme, world.globex):
        response = getattr(client, method)(_fill(path, org_ns), **headers)
        assert response.status_code in (401, 404), f"SCIM token {method} {path} → {response.status_code}"
        _assert_no_leak(response, world.acme, f"SCIM token {method} {path}")


def test_another_organisations_scim_token_reaches_no_one_of_acme(world, client, globex_scim_token):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {globex_scim_token}"}
    listed = client.get("/scim/v2/Users", **headers)
    assert listed.status_code == 200
    _assert_no_leak(listed, world.acme, "globex SCIM token GET /Users")
    for email in (u.email for u in world.acme.users.values()):
        found = client.get("/scim/v2/Users", {"filter": f'userName eq "{email}"'}, **headers)
        assert found.status_code == 200 and found.json()["totalResults"] == 0
        linked = client.post("/scim/v2/Users", json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                                           "userName": email}),
                             content_type="application/scim+json", **headers)
        assert linked.status_code == 409, linked.content
    from bastion.tenancy import context
    from bastion.tenancy.models import Membership

    with context.tenant_context(world.globex.organisation.id):
        assert not Membership.objects.filter(user__email__endswith="@acme.example").exists()


# Platform staff (issue 18): members of no organisation. Without a grant they get nothing of anyone;
# with a grant open on acme, still nothing of globex (nor of acme through globex's ids).

STAFF_ROLES = ("support", "security", "operator")


@pytest.fixture
def staff_clients(world, client_for, django_user_model):
    """A signed-in staff session (second factor as each role needs) per role, none holding a grant,
    and a support one holding an open read-write grant on the whole of acme."""
    from bastion.support_access import requests
    from bastion.tenancy import context

    without = {role: client_for(django_user_model.objects.create_user(email=f"{role}@staff.example", staff_role=role,
                                                                      email_verified=True))
               for role in STAFF_ROLES}
    granted = django_user_model.objects.create_user(email="granted@staff.example", staff_role="support",
                                                    email_verified=True)
    asked = requests.ask(granted, "acme", reason="support", reference="T-1", mode="read_write", minutes=60)
    with context.tenant_context(world.acme.organisation.id):
        requests.approve(asked, world.acme.users["admin"])
    return SimpleNamespace(without=without, granted=client_for(granted))


@pytest.mark.parametrize("item", [op for op in API_OPERATIONS if "{org}" in op[1]], ids=_operation_id)
def test_api_staff_without_a_grant_get_nothing(item, world, staff_clients):
    method, path, _ = item
    for role, client in staff_clients.without.items():
        for org_ns in (world.acme, world.globex):
            response = _call(client, method, _fill(path, org_ns))
            assert response.status_code == 404, f"staff {role} {method} {path} ({org_ns.slug}) → {response.status_code}"
            _assert_no_leak(response, org_ns, f"staff {role} {method} {path}")
    client = staff_clients.granted
    response = _call(client, method, _fill(path, world.globex))
    assert response.status_code == 404, f"staff with an acme grant {method} {path} (globex) → {response.status_code}"
    _assert_no_leak(response, world.globex, f"staff with an acme grant {method} {path}")
    if re.search(r"{(?!org})\w+}", path):
        response = _call(client, method, _fill(path, world.acme, world.globex))
        assert response.status_code in (403, 404), f"staff with a grant {method} {path} (globex ids) → {response.status_code}"
        _assert_no_leak(response, world.globex, f"staff with an acme grant {method} {path} (acme org)")


@pytest.mark.parametrize("page", CONSOLE_PAGES, ids=lambda p: p[0])
def test_console_staff_without_a_grant_get_no_page(page, world, staff_clients):
    route, _pattern = page
    for role, client in staff_clients.without.items():
        for method in ("get", "post"):
            for org_ns in (world.acme, world.globex):
                response = getattr(client, method)(_fill_route(route, org_ns))
                assert response.status_code == 404, f"staff {role} {method} /{route} ({org_ns.slug}) → {response.status_code}"
                _assert_no_leak(response, org_ns, f"staff {role} {method} {route}")
    for method in ("get", "post"):
        response = getattr(staff_clients.granted, method)(_fill_route(route, world.globex))
        assert response.status_code == 404, f"staff with an acme grant {method} /{route} (globex) → {response.status_code}"
        _assert_no_leak(response, world.globex, f"staff with an acme grant {method} {route}")
