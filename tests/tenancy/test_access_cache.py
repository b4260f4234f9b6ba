"""The per-principal authorization cache (``tenancy.access_cache``): a warm cache answers without
reading memberships, and every change to who may do what is refused on the very next request —
a removed membership, a lowered role, a permission taken from a custom role, a deactivated account,
a SCIM deprovisioning, for sessions and API keys alike. The outsider gets nothing, warm or cold."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bastion.tenancy import access_cache, actions, api_keys, context
from bastion.tenancy.models import Membership, Organisation
from tests.identity.test_scim import Scim, _token_for


@pytest.fixture(autouse=True)
def empty_cache():
    access_cache.clear()
    yield
    access_cache.clear()


@pytest.fixture
def request_committed(django_capture_on_commit_callbacks):
    """``get(client, url, **headers)``: a request whose transaction's on-commit work runs, as it does
    outside the test's own transaction (the cache keeps an entry only once its transaction commits)."""

    def get(client: Client, url: str, **headers):
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
            response = client.get(url, **headers)
        response.membership_reads = sum("tenancy_membership" in q["sql"] for q in queries.captured_queries)
        response.project_reads = sum('FROM "tenancy_project"' in q["sql"] for q in queries.captured_queries)
        return response

    return get


def _url(world) -> str:
    return f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions"


def _warm(get, client, world, **headers):
    first = get(client, _url(world), **headers)
    assert first.status_code == 200, first.content
    again = get(client, _url(world), **headers)
    # Answered from the cache: no membership read, no project read.
    assert again.status_code == 200 and again.membership_reads == 0 and again.project_reads == 0
    return again


def _change(world, change):
    with context.tenant_context(world.acme.organisation.id):
        change()


def _org_membership(user) -> Membership:
    return Membership.objects.get(user=user, workspace=None, project=None)


def test_a_warm_cache_reads_no_membership_and_is_per_principal(world, client_for, request_committed):
    editor = client_for(world.acme.users["editor"])
    _warm(request_committed, editor, world)
    assert ("member", world.acme.users["editor"].pk, "acme") in access_cache._entries
    outsider = client_for(world.globex.users["owner"])
    for _ in range(2):  # cold, then with acme's entries warm: nothing either time
        refused = request_committed(outsider, _url(world))
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert request_committed(Client(), _url(world)).status_code == 401


def test_a_deleted_project_is_not_found_next_request(world, client_for, request_committed):
    client = client_for(world.acme.users["editor"])
    _warm(request_committed, client, world)
    assert any(key[2] == world.acme.project.id for key in access_cache._projects)
    _change(world, lambda: actions.delete_project(world.acme.project))
    assert request_committed(client, _url(world)).status_code == 404


def test_a_removed_membership_is_refused_next_request(world, client_for, request_committed):
    editor = world.acme.users["editor"]
    client = client_for(editor)
    _warm(request_committed, client, world)
    _change(world, lambda: actions.remove_membership(_org_membership(editor)))
    assert request_committed(client, _url(world)).status_code == 404


def test_a_lowered_role_is_refused_next_request(world, client_for, request_committed):
    admin = world.acme.users["admin"]
    client = client_for(admin)
    _warm(request_committed, client, world)
    _change(world, lambda: actions.change_membership_role(_org_membership(admin), role="viewer"))
    refused = client.post("/api/v1/orgs/acme/workspaces", {"name": "Not any more"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_a_permission_taken_from_a_custom_role_is_refused_next_request(world, client_for, request_committed):
    viewer = world.acme.users["viewer"]
    with context.tenant_context(world.acme.organisation.id):
        role = actions.save_role(world.acme.organisation, name="Reader", permissions=["records.view"])
        actions.change_membership_role(_org_membership(viewer), role=f"custom:{role.id}")
    client = client_for(viewer)
    _warm(request_committed, client, world)
    _change(world, lambda: actions.save_role(world.acme.organisation, name="Reader", permissions=["evidence.view"],
                                             role=role))
    refused = request_committed(client, _url(world))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_a_deactivated_account_is_refused_next_request(world, client_for, request_committed):
    editor = world.acme.users["editor"]
    client = client_for(editor)
    _warm(request_committed, client, world)
    type(editor).objects.filter(pk=editor.pk).update(is_active=False)  # no signal, no action: still refused
    assert request_committed(client, _url(world)).status_code in (401, 403)


def test_a_scim_deprovisioned_member_is_refused_next_request(world, client_for, request_committed):
    scim = Scim(_token_for(world.acme, world.acme.users["owner"]))
    linked = scim.create_user("editor@acme.example")  # the provider takes over the existing account
    client = client_for(world.acme.users["editor"])
    _warm(request_committed, client, world)
    assert scim.patch(f"Users/{linked['id']}", {"op": "replace", "value": {"active": False}}).status_code == 200
    assert request_committed(client, _url(world)).status_code in (401, 404)


def test_an_api_key_dies_next_request_with_its_creators_role_or_membership(world, request_committed):
    editor = world.acme.users["editor"]
    with context.tenant_context(world.acme.organisation.id):
        _key, token = api_keys.create(world.acme.organisation, name="Export", scopes=["records.view"],
                                      expires_in_days=30, creator=editor, creator_grants=[_org_membership(editor)])
        role = actions.save_role(world.acme.organisation, name="Evidence only", permissions=["evidence.view"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    _warm(request_committed, client, world, **headers)
    assert any(key[0] == "key" for key in access_cache._entries)
    # An unrelated change in the organisation bumps the version too: a miss, the same answer, warm again.
    _change(world, lambda: actions.update_organisation(Organisation.objects.get(id=world.acme.organisation.id),
                                                       name="Acme Renamed"))
    _warm(request_committed, client, world, **headers)
    _change(world, lambda: actions.change_membership_role(_org_membership(editor), role=f"custom:{role.id}"))
    # The creator lost records.view, the key its only scope: it holds nothing here, so not even a 403.
    assert request_committed(client, _url(world), **headers).status_code == 404
    _change(world, lambda: actions.change_membership_role(_org_membership(editor), role="editor"))
    _warm(request_committed, client, world, **headers)
    _change(world, lambda: actions.remove_membership(_org_membership(editor)))
    assert request_committed(client, _url(world), **headers).status_code == 401  # the creator left: the key is dead


def test_an_api_key_dies_next_request_with_its_creators_account(world, request_committed):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.acme.api_token}"}
    client = Client()
    _warm(request_committed, client, world, **headers)
    creator = world.acme.users["owner"]  # made the key
    type(creator).objects.filter(pk=creator.pk).update(is_active=False)  # no signal, no action: still dead
    assert request_committed(client, _url(world), **headers).status_code == 401


def test_an_outsiders_api_key_gets_nothing_warm_or_cold(world, request_committed):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.globex.api_token}"}
    for _ in range(2):
        assert request_committed(Client(), _url(world), **headers).status_code in (401, 404)
