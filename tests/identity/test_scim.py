"""SCIM 2.0 provisioning at /scim/v2/: the organisation's token, users, deactivation in seconds,
groups, discovery, SCIM error bodies for every bad input, and the outsider organisation untouched."""

from __future__ import annotations

import json
import uuid

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.crypto import api_keys
from bastion.crypto.models import ApiKey
from bastion.identity.models import ScimGroup, ScimIdentity, ScimToken
from bastion.identity.scim import tokens
from bastion.identity.sso.models import VerifiedDomain
from bastion.tenancy import actions, context
from bastion.tenancy.api_keys import create as create_api_key
from bastion.tenancy.models import Membership
from tests.conftest import PASSWORD
from tests.sign_in import sign_in

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_JSON = "application/scim+json"


class Scim:
    """A SCIM client of one organisation, as an identity provider is."""

    def __init__(self, token: str):
        self.token = token
        self.client = Client()

    def __call__(self, method: str, path: str, body=None, *, content_type: str = SCIM_JSON, token: str | None = None,
                 **query):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token if token is None else token}"}
        url = f"/scim/v2/{path}"
        if method in ("post", "put", "patch"):
            data = body if isinstance(body, (str, bytes)) else json.dumps(body)
            return getattr(self.client, method)(url, data=data, content_type=content_type, **headers)
        return getattr(self.client, method)(url, data=query or None, **headers)

    def create_user(self, user_name: str, **attributes):
        response = self("post", "Users", {"schemas": [USER], "userName": user_name, **attributes})
        assert response.status_code == 201, response.content
        return response.json()

    def patch(self, path: str, *operations):
        return self("patch", path, {"schemas": [PATCH], "Operations": list(operations)})


def _token_for(org_ns, creator=None) -> str:
    """A token of the organisation, which has proved by DNS that its people's domain is its own
    (``<slug>.example``): its provider may link their existing accounts, and only theirs."""
    with context.tenant_context(org_ns.organisation.id):
        VerifiedDomain.objects.get_or_create(organisation=org_ns.organisation, domain=f"{org_ns.slug}.example",
                                             defaults={"token": "t", "verified_at": timezone.now()})
        return tokens.create(org_ns.organisation, creator=creator)[1]


@pytest.fixture
def scim(world) -> Scim:
    """Acme's identity provider, with a token made by acme's owner."""
    return Scim(_token_for(world.acme, world.acme.users["owner"]))


@pytest.fixture
def outsider_scim(world) -> Scim:
    return Scim(_token_for(world.globex, world.globex.users["owner"]))


def _is_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith(SCIM_JSON)
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body.get("detail")
    if scim_type:
        assert body.get("scimType") == scim_type, body
    return body


def _events(org_ns, action: str) -> list[personal.Shown]:
    with context.tenant_context(org_ns.organisation.id):
        return personal.shown(list(AuditEvent.objects.filter(chain_id=org_ns.organisation.id, action=action)))


def _org_grant(org_ns, user) -> Membership | None:
    with context.tenant_context(org_ns.organisation.id):
        return Membership.objects.filter(user=user, workspace=None, project=None).first()


# The token ------------------------------------------------------------------------------------


def test_no_wrong_or_revoked_token_gets_a_scim_401(world, scim):
    for token in ("", "nope", "bst_" + "a" * 58, world.acme.api_token, scim.token[:-1] + "x"):
        _is_error(scim("get", "Users", token=token), 401)
    _is_error(Client().get("/scim/v2/Users"), 401)
    _is_error(Client().get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Basic {scim.token}"), 401)
    assert scim("get", "Users").status_code == 200
    rotated = _token_for(world.acme, world.acme.users["owner"])  # a new token revokes the old one
    _is_error(scim("get", "Users"), 401)
    assert scim("get", "Users", token=rotated).status_code == 200


def test_a_token_dies_when_its_maker_no_longer_manages_members(world):
    scim = Scim(_token_for(world.acme, world.acme.users["admin"]))
    assert scim("get", "Users").status_code == 200
    with context.tenant_context(world.acme.organisation.id):
        actions.change_membership_role(Membership.objects.get(user=world.acme.users["admin"], workspace=None,
                                                              project=None), role="editor")
    _is_error(scim("get", "Users"), 401)


def test_admins_make_and_revoke_the_token_through_the_api_once_shown_and_audited(world, client_for):
    admin = client_for(world.acme.users["admin"])
    response = admin.post("/api/v1/orgs/acme/scim-token")
    assert response.status_code == 201, response.content
    first = response.json()
    assert api_keys.parse(first["token"]) and first["base_url"].endswith("/scim/v2/")
    assert Scim(first["token"])("get", "ServiceProviderConfig").status_code == 200
    second = admin.post("/api/v1/orgs/acme/scim-token").json()["token"]
    _is_error(Scim(first["token"])("get", "Users"), 401)
    with context.tenant_context(world.acme.organisation.id):
        stored = ScimToken.objects.get(public_id=second[4:16])
    assert second[17:57] not in stored.secret_hash and stored.created_by == world.acme.users["admin"]
    assert admin.delete("/api/v1/orgs/acme/scim-token").status_code == 204
    _is_error(Scim(second)("get", "Users"), 401)
    assert admin.delete("/api/v1/orgs/acme/scim-token").status_code == 404
    created, revoked = _events(world.acme, "scim.token.created"), _events(world.acme, "scim.token.revoked")
    assert len(created) == 2 and len(revoked) == 2
    assert all(first["token"] not in json.dumps(e.changes) and second not in json.dumps(e.changes)
               for e in created + revoked)
    assert client_for(world.acme.users["viewer"]).post("/api/v1/orgs/acme/scim-token").status_code == 403
    assert client_for(world.acme.users["admin"]).post("/api/v1/orgs/globex/scim-token").status_code == 404
    api_key = Client().post("/api/v1/orgs/acme/scim-token", HTTP_AUTHORIZATION=f"Bearer {world.acme.api_token}")
    assert api_key.status_code in (401, 403)


def test_the_management_command_prints_a_working_token(world, capsys):
    from django.core.management import call_command

    call_command("scim_token", "--org", "acme")
    token = capsys.readouterr().out.strip()
    assert Scim(token)("get", "Users").status_code == 200
    [event] = _events(world.acme, "scim.token.created")
    assert event.actor_type == "operator"
    call_command("scim_token", "--org", "acme", "--revoke")
    _is_error(Scim(token)("get", "Users"), 401)


# Discovery and errors -------------------------------------------------------------------------


def test_discovery_endpoints(scim):
    config = scim("get", "ServiceProviderConfig")
    assert config.status_code == 200 and config["Content-Type"].startswith(SCIM_JSON)
    assert config.json()["patch"]["supported"] is True
    assert config.json()["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    types = scim("get", "ResourceTypes").json()
    assert {r["id"] for r in types["Resources"]} == {"User", "Group"}
    assert scim("get", "ResourceTypes/User").json()["endpoint"] == "/Users"
    schemas = scim("get", "Schemas").json()
    assert {s["id"] for s in schemas["Resources"]} >= {USER, GROUP}
    user_schema = scim("get", f"Schemas/{USER}").json()
    assert {a["name"] for a in user_schema["attributes"]} == {"userName", "name", "emails", "active"}
    _is_error(scim("get", "Schemas/urn:nope"), 404)
    _is_error(scim("get", "ResourceTypes/Nope"), 404)
    _is_error(scim("post", "ServiceProviderConfig", {}), 405)
    _is_error(scim("get", f"{uuid.uuid4()}"), 404)


def test_every_bad_input_gets_a_scim_4xx(world, scim):
    _is_error(scim("post", "Users", "{not json"), 400, "invalidSyntax")
    _is_error(scim("post", "Users", "[1, 2]"), 400, "invalidSyntax")
    _is_error(scim("post", "Users", {"schemas": [USER]}), 400)
    _is_error(scim("post", "Users", {"schemas": [USER], "userName": "x", "emails": [{"value": "nope"}]}), 400)
    _is_error(scim("post", "Users", {"schemas": [USER], "userName": "not-an-address"}), 400)
    _is_error(scim("post", "Users", {"schemas": [USER], "userName": "a@acme.example", "active": "maybe"}), 400)
    _is_error(scim("post", "Users", {"schemas": [USER], "userName": "a\x00b@acme.example"}), 400)
    _is_error(scim("post", "Users", {"schemas": [USER], "userName": "x" * 300 + "@acme.example"}), 400)
    _is_error(scim("post", "Users", "userName=a", content_type="text/plain"), 415)
    _is_error(scim("get", "Users", filter='nope eq "x"'), 400, "invalidFilter")
    _is_error(scim("get", "Users", filter='userName eq'), 400)
    _is_error(scim("get", "Users/not-a-uuid"), 404)
    _is_error(scim("get", f"Users/{uuid.uuid4()}"), 404)
    _is_error(scim.patch(f"Users/{uuid.uuid4()}", {"op": "replace", "path": "active", "value": False}), 404)
    created = scim.create_user("pat@acme.example")
    _is_error(scim("patch", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [{"op": "jump"}]}), 400)
    ignored = scim.patch(f"Users/{created['id']}", {"op": "replace", "path": "title", "value": "CFO"})
    assert ignored.status_code == 200 and ignored.json() == created  # not kept by Bastion: ignored, as on create
    _is_error(scim.patch(f"Users/{created['id']}", {"op": "remove", "path": "userName"}), 400)
    _is_error(scim.patch(f"Users/{created['id']}", {"op": "replace", "path": "id", "value": "x"}), 400)
    _is_error(scim("post", "Groups", {"schemas": [GROUP]}), 400)
    _is_error(scim("put", "Users", {}), 405)


# Users ----------------------------------------------------------------------------------------


def test_creating_a_user_makes_an_account_and_a_viewer_membership_audited_as_scim(world, scim):
    body = scim.create_user("Kim.Lee@Acme.example", externalId="okta-123", active=True,
                            name={"givenName": "Kim", "familyName": "Lee"},
                            emails=[{"value": "kim.lee@acme.example", "type": "work", "primary": True}],
                            nickName="ignored", phoneNumbers=[{"value": "+44 20 0000 0000"}])
    assert body["userName"] == "kim.lee@acme.example" and body["externalId"] == "okta-123"
    assert body["name"] == {"givenName": "Kim", "familyName": "Lee"} and body["active"] is True
    assert "nickName" not in body and "phoneNumbers" not in body
    assert body["meta"]["resourceType"] == "User" and body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")
    user = get_user_model().objects.get(email="kim.lee@acme.example")
    assert (user.first_name, user.last_name, user.is_active, user.has_usable_password()) == ("Kim", "Lee", True, False)
    assert _org_grant(world.acme, user).builtin_role == "viewer"
    assert _org_grant(world.globex, user) is None
    [created] = _events(world.acme, "scim.user.created")
    [added] = [e for e in _events(world.acme, "member.added") if e.changes["user"] == user.email]
    assert created.actor_type == added.actor_type == "scim"
    assert scim("get", f"Users/{body['id']}").json() == body
    _is_error(scim("post", "Users", {"schemas": [USER], "userName": "KIM.LEE@acme.example"}), 409, "uniqueness")


def test_plain_json_is_accepted_and_emails_default_to_an_address_user_name(world, scim):
    response = scim("post", "Users", {"schemas": [USER], "userName": "jo@acme.example"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["emails"] == [{"value": "jo@acme.example", "primary": True}]
    assert response["Location"] == response.json()["meta"]["location"]


def test_a_user_name_that_is_not_an_address_uses_the_primary_email(world, scim):
    body = scim.create_user("kim", emails=[{"value": "other@acme.example"}, {"value": "kim@acme.example",
                                                                              "primary": True}])
    assert body["userName"] == "kim"
    assert get_user_model().objects.filter(email="kim@acme.example").exists()


def test_list_filter_and_pages(world, scim):
    for n in range(5):
        scim.create_user(f"user{n}@acme.example", externalId=f"ext-{n}")
    everyone = scim("get", "Users").json()
    assert everyone["totalResults"] == 5 and len(everyone["Resources"]) == 5
    found = scim("get", "Users", filter='userName eq "USER3@acme.example"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["userName"] == "user3@acme.example"
    assert scim("get", "Users", filter='externalId eq "ext-4"').json()["Resources"][0]["userName"] == "user4@acme.example"
    assert scim("get", "Users", filter='externalId eq "EXT-4"').json()["totalResults"] == 0  # caseExact
    assert scim("get", "Users", filter='userName sw "user1"').json()["totalResults"] == 1
    page = scim("get", "Users", startIndex=2, count=2, sortBy="userName").json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [u["userName"] for u in page["Resources"]] == ["user1@acme.example", "user2@acme.example"]
    last = scim("get", "Users", startIndex=5, count=10).json()
    assert (last["totalResults"], last["itemsPerPage"], last["Resources"][0]["userName"]) == (5, 1, "user4@acme.example")
    counted = scim("get", "Users", count=0).json()
    assert (counted["schemas"], counted["totalResults"], counted.get("Resources", [])) == ([LIST], 5, [])
    only_names = scim("get", "Users", attributes="userName", count=1).json()["Resources"][0]
    assert set(only_names) == {"schemas", "id", "userName"}
    searched = scim("post", "Users/.search", {"schemas": [SEARCH], "filter": 'userName eq "user0@acme.example"'})
    assert searched.json()["totalResults"] == 1
    everything = scim("post", ".search", {"schemas": [SEARCH], "filter": 'userName eq "user0@acme.example"'})
    assert everything.status_code == 200 and everything.json()["totalResults"] == 1


def test_put_and_patch_change_names_and_the_account_the_provider_created(world, scim):
    body = scim.create_user("sam@acme.example", name={"givenName": "Sam"})
    path = f"Users/{body['id']}"
    replaced = scim("put", path, {"schemas": [USER], "userName": "sam@acme.example", "externalId": "e1",
                                  "name": {"givenName": "Samantha", "familyName": "Ng"}})
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["name"] == {"givenName": "Samantha", "familyName": "Ng"}
    patched = scim.patch(path, {"op": "replace", "path": "name.familyName", "value": "Wu"},
                         {"op": "add", "value": {"externalId": "e2"}})
    assert patched.status_code == 200, patched.content
    assert patched.json()["name"]["familyName"] == "Wu" and patched.json()["externalId"] == "e2"
    removed = scim.patch(path, {"op": "remove", "path": "name.givenName"}).json()
    assert removed["name"] == {"familyName": "Wu"}
    renamed = scim.patch(path, {"op": "replace", "path": "userName", "value": "samantha@acme.example"}).json()
    assert renamed["userName"] == "samantha@acme.example"
    user = get_user_model().objects.get(email="samantha@acme.example")
    assert (user.first_name, user.last_name) == ("", "Wu")
    assert len(_events(world.acme, "scim.user.updated")) == 4


def test_an_existing_account_of_the_verified_domain_is_linked_and_never_renamed_by_one_organisation(world, scim):
    shared = get_user_model().objects.create_user(email="shared@acme.example", password=PASSWORD, first_name="Sam",
                                                  email_verified=True)
    with context.tenant_context(world.globex.organisation.id):
        actions.add_membership(world.globex.organisation, user=shared, role="editor")
    body = scim.create_user(shared.email, name={"givenName": "Someone", "familyName": "Else"})
    assert body["name"] == {"givenName": "Someone", "familyName": "Else"}
    scim.patch(f"Users/{body['id']}", {"op": "replace", "path": "name.givenName", "value": "Changed"})
    shared.refresh_from_db()
    assert shared.first_name == "Sam" and shared.email == "shared@acme.example"
    assert _org_grant(world.acme, shared).builtin_role == "viewer"
    assert _org_grant(world.globex, shared).builtin_role == "editor"
    [event] = _events(world.acme, "scim.user.created")
    assert "account_created" not in event.changes  # the tenant's log does not say whether an account existed


def test_a_token_cannot_pull_in_a_person_of_another_organisation(world, scim):
    """Issue 12, finding 4: acme's token linked globex's editor into acme without consent, then
    signed them out of globex again and again by toggling ``active``."""
    victim = world.globex.users["editor"]
    browser = Client()
    assert sign_in(browser, victim.email, PASSWORD).status_code == 302
    for attempt in ({"userName": victim.email},
                    {"userName": "alias", "emails": [{"value": victim.email, "primary": True}]}):
        _is_error(scim("post", "Users", {"schemas": [USER], **attempt}), 409, "uniqueness")
    assert _org_grant(world.acme, victim) is None and not ScimIdentity.all_tenants.filter(user=victim).exists()
    assert browser.get("/api/v1/orgs/globex/workspaces").status_code == 200
    victim.refresh_from_db()
    assert victim.is_active


def test_deactivation_reaches_only_what_the_organisation_manages(world, scim):
    """An account acme's provider made for an address outside acme's domains, since claimed by its
    owner and a member of globex: acme's deactivation removes acme's membership only."""
    body = scim.create_user("freelancer@mail.example")
    person = get_user_model().objects.get(email="freelancer@mail.example")
    person.set_password(PASSWORD)  # claimed by its owner, who proved the address
    person.save()
    EmailAddress.objects.filter(user=person).update(verified=True)
    with context.tenant_context(world.globex.organisation.id):
        actions.add_membership(world.globex.organisation, user=person, role="editor")
    browser = Client()
    assert sign_in(browser, person.email, PASSWORD).status_code == 302
    for active in (False, True, False):
        assert scim.patch(f"Users/{body['id']}", {"op": "replace", "value": {"active": active}}).status_code == 200
    assert browser.get("/api/v1/orgs/globex/workspaces").status_code == 200  # still signed in to globex
    person.refresh_from_db()
    assert person.is_active and _org_grant(world.acme, person) is None
    assert _org_grant(world.globex, person).builtin_role == "editor"
    assert all(event.changes["sessions_ended"] == 0 for event in _events(world.acme, "scim.user.deactivated"))


def test_a_token_never_enables_an_account_it_did_not_disable(world, scim):
    person = get_user_model().objects.create_user(email="suspended@acme.example", password=PASSWORD,
                                                  email_verified=True)
    person.is_active = False  # disabled by the platform's operator
    person.save()
    scim.create_user(person.email)
    person.refresh_from_db()
    assert not person.is_active
    assert not [e for e in _events(world.acme, "scim.user.created") if e.changes.get("account.is_active")]


def test_an_inactive_user_is_not_a_squatted_account(world, scim):
    """Issue 12, finding 5: a SCIM create with ``active: false`` made a disabled account, whose
    owner could then neither sign up nor reset their password."""
    body = scim.create_user("someone@unclaimed.example", active=False)
    assert body["active"] is False
    account = get_user_model().objects.get(email="someone@unclaimed.example")
    assert account.is_active and _org_grant(world.acme, account) is None
    mail.outbox.clear()
    assert Client().post("/accounts/password/reset/", {"email": "someone@unclaimed.example"}).status_code == 302
    [message] = mail.outbox
    assert "/accounts/password/reset/key/" in message.body  # its owner can take it over


def test_deactivation_signs_out_at_once_revokes_api_keys_and_disables_the_account(world, scim):
    editor = world.acme.users["editor"]
    with context.tenant_context(world.acme.organisation.id):
        grants = list(Membership.objects.filter(user=editor))
        key, key_token = create_api_key(world.acme.organisation, name="editor's script", scopes=["records.view"],
                                        expires_in_days=30, creator=editor, creator_grants=grants)
    browser = Client()
    assert sign_in(browser, editor.email, PASSWORD).status_code == 302
    members_url = "/api/v1/orgs/acme/workspaces"
    assert browser.get(members_url).status_code == 200
    records = f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions"
    assert Client().get(records, HTTP_AUTHORIZATION=f"Bearer {key_token}").status_code == 200
    assert UserSession.objects.filter(user=editor).exists()

    body = scim.create_user(editor.email)  # the provider takes over an existing member
    response = scim.patch(f"Users/{body['id']}", {"op": "replace", "value": {"active": False}})
    assert response.status_code == 200 and response.json()["active"] is False

    assert browser.get(members_url).status_code == 401  # the very next request: signed out
    assert Client().get(records, HTTP_AUTHORIZATION=f"Bearer {key_token}").status_code == 401
    assert not UserSession.objects.filter(user=editor).exists()
    assert _org_grant(world.acme, editor) is None
    editor.refresh_from_db()
    assert editor.is_active is False  # in no organisation any more
    with context.tenant_context(world.acme.organisation.id):
        assert ApiKey.objects.get(id=key.id).revoked_at is not None
    [event] = _events(world.acme, "scim.user.deactivated")
    assert event.actor_type == "scim" and event.changes["sessions_ended"] >= 1
    assert event.changes["api_keys_revoked"] == [key.preview]
    assert any(e.actor_type == "scim" for e in _events(world.acme, "member.removed"))
    assert any(e.actor_type == "scim" for e in _events(world.acme, "api_key.revoked"))
    # The outsider organisation's people are untouched.
    for user in world.globex.users.values():
        user.refresh_from_db()
        assert user.is_active and _org_grant(world.globex, user) is not None
    assert Client().get(f"/api/v1/orgs/globex/projects/{world.globex.project.id}/emissions",
                        HTTP_AUTHORIZATION=f"Bearer {world.globex.api_token}").status_code == 200

    reactivated = scim.patch(f"Users/{body['id']}", {"op": "replace", "path": "active", "value": True})
    assert reactivated.json()["active"] is True
    editor.refresh_from_db()
    assert editor.is_active and _org_grant(world.acme, editor).builtin_role == "viewer"
    assert len(_events(world.acme, "scim.user.reactivated")) == 1


def test_deactivating_a_member_of_another_organisation_keeps_the_account(world, scim):
    shared = get_user_model().objects.create_user(email="both@acme.example", password=PASSWORD, email_verified=True)
    with context.tenant_context(world.globex.organisation.id):
        actions.add_membership(world.globex.organisation, user=shared, role="viewer")
    body = scim.create_user(shared.email)
    browser = Client()
    assert sign_in(browser, shared.email, PASSWORD).status_code == 302
    scim("put", f"Users/{body['id']}", {"schemas": [USER], "userName": shared.email, "active": False})
    shared.refresh_from_db()
    assert shared.is_active and _org_grant(world.globex, shared) is not None and _org_grant(world.acme, shared) is None
    # acme's own address (its verified domain): acme's provider ends the person's sessions everywhere.
    assert browser.get("/api/v1/orgs/globex/workspaces").status_code == 401


def test_delete_deactivates_and_unlinks(world, scim):
    body = scim.create_user("gone@acme.example")
    user = get_user_model().objects.get(email="gone@acme.example")
    assert scim("delete", f"Users/{body['id']}").status_code == 204
    _is_error(scim("get", f"Users/{body['id']}"), 404)
    _is_error(scim("delete", f"Users/{body['id']}"), 404)
    user.refresh_from_db()
    assert not user.is_active and _org_grant(world.acme, user) is None
    assert len(_events(world.acme, "scim.user.deleted")) == 1
    again = scim.create_user("gone@acme.example")  # provisioned again: a new SCIM id, the same account
    assert again["id"] != body["id"] and again["active"] is True
    user.refresh_from_db()
    assert user.is_active


def test_a_token_made_by_an_admin_can_not_deactivate_the_owner(world):
    scim = Scim(_token_for(world.acme, world.acme.users["admin"]))
    owner = scim.create_user(world.acme.users["owner"].email)  # linking changes nothing of theirs
    assert scim.patch(f"Users/{owner['id']}", {"op": "add", "path": "externalId", "value": "o"}).status_code == 200
    _is_error(scim.patch(f"Users/{owner['id']}", {"op": "replace", "path": "active", "value": False}), 403)
    _is_error(scim("delete", f"Users/{owner['id']}"), 403)
    assert _org_grant(world.acme, world.acme.users["owner"]).builtin_role == "owner"


def test_the_last_owner_can_not_be_deactivated(world, scim):
    owner = scim.create_user(world.acme.users["owner"].email)
    _is_error(scim.patch(f"Users/{owner['id']}", {"op": "replace", "path": "active", "value": False}), 409)
    assert _org_grant(world.acme, world.acme.users["owner"]) is not None


# Isolation ------------------------------------------------------------------------------------


def test_a_token_of_acme_sees_and_touches_nothing_of_globex(world, scim, outsider_scim):
    theirs = outsider_scim.create_user("insider@globex.example")
    their_group = outsider_scim("post", "Groups", {"schemas": [GROUP], "displayName": "Globex admins",
                                                   "members": [{"value": theirs["id"]}]}).json()
    ours = scim.create_user("someone@acme.example")
    for path in (f"Users/{theirs['id']}", f"Groups/{their_group['id']}"):
        _is_error(scim("get", path), 404)
        _is_error(scim.patch(path, {"op": "replace", "path": "externalId", "value": "x"}), 404)
        _is_error(scim("put", path, {"schemas": [USER], "userName": "x@acme.example"}), 404)
        _is_error(scim("delete", path), 404)
    listed = json.dumps(scim("get", "Users").json()) + json.dumps(scim("get", "Groups").json())
    listed += json.dumps(scim("post", ".search", {"schemas": [SEARCH]}).json())
    for secret in (theirs["id"], "insider@globex.example", their_group["id"], "Globex admins",
                   *(u.email for u in world.globex.users.values())):
        assert secret not in listed
    assert scim("get", "Users", filter='userName eq "insider@globex.example"').json()["totalResults"] == 0
    _is_error(scim("post", "Groups", {"schemas": [GROUP], "displayName": "Mixed",
                                      "members": [{"value": ours["id"]}, {"value": theirs["id"]}]}), 400, "invalidValue")
    _is_error(outsider_scim("get", f"Users/{ours['id']}"), 404)
    assert outsider_scim("get", f"Users/{theirs['id']}").status_code == 200
    with context.tenant_context(world.globex.organisation.id):
        assert ScimIdentity.objects.count() == 1 and ScimGroup.objects.get().display_name == "Globex admins"


# Groups ---------------------------------------------------------------------------------------


def test_groups_create_filter_patch_replace_delete_audited(world, scim):
    ann, bob, cy = (scim.create_user(f"{name}@acme.example") for name in ("ann", "bob", "cy"))
    created = scim("post", "Groups", {"schemas": [GROUP], "displayName": "Finance", "externalId": "g-1",
                                      "members": [{"value": ann["id"]}, {"value": bob["id"]}]})
    assert created.status_code == 201, created.content
    group = created.json()
    path = f"Groups/{group['id']}"
    assert [m["value"] for m in group["members"]] == [ann["id"], bob["id"]]
    assert group["members"][0]["$ref"] == ann["meta"]["location"] and group["members"][0]["type"] == "User"
    _is_error(scim("post", "Groups", {"schemas": [GROUP], "displayName": "finance"}), 409, "uniqueness")
    assert scim("get", "Groups", filter='displayName eq "FINANCE"').json()["totalResults"] == 1
    assert scim("get", "Groups", filter='displayName eq "Sales"').json()["totalResults"] == 0
    patched = scim.patch(path, {"op": "add", "path": "members", "value": [{"value": cy["id"]}]},
                         {"op": "remove", "path": f'members[value eq "{ann["id"]}"]'},
                         {"op": "replace", "path": "displayName", "value": "Finance EU"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["displayName"] == "Finance EU"
    assert [m["value"] for m in patched.json()["members"]] == [bob["id"], cy["id"]]
    _is_error(scim.patch(path, {"op": "add", "path": "members", "value": [{"value": str(uuid.uuid4())}]}),
              400, "invalidValue")
    replaced = scim("put", path, {"schemas": [GROUP], "displayName": "Finance", "members": [{"value": ann["id"]}]})
    assert [m["value"] for m in replaced.json()["members"]] == [ann["id"]]
    assert scim("delete", f"Users/{ann['id']}").status_code == 204
    assert "members" not in scim("get", path).json()
    assert scim("delete", path).status_code == 204
    _is_error(scim("get", path), 404)
    assert [len(_events(world.acme, f"scim.group.{a}")) for a in ("created", "updated", "deleted")] == [1, 2, 1]
    [update] = _events(world.acme, "scim.group.updated")[:1]
    assert update.actor_type == "scim" and update.changes["members_added"] == ["cy@acme.example"]


def test_requests_as_okta_and_microsoft_entra_send_them(world, scim):
    okta = scim.create_user("lee@acme.example", name={"givenName": "Lee", "familyName": "Ray"},
                            emails=[{"primary": True, "value": "lee@acme.example", "type": "work"}],
                            displayName="Lee Ray", locale="en-GB", groups=[])
    path = f"Users/{okta['id']}"
    assert scim("get", "Users", filter='userName eq "lee@acme.example"', startIndex=1, count=100).json()[
        "Resources"][0]["id"] == okta["id"]
    entra = scim.patch(path, {"op": "Replace", "path": "active", "value": "False"},
                       {"op": "Add", "path": 'emails[type eq "work"].value', "value": "lee.ray@acme.example"},
                       {"op": "Replace", "path": "name.givenName", "value": "Leigh"})
    assert entra.status_code == 200, entra.content
    assert entra.json()["active"] is False and entra.json()["name"]["givenName"] == "Leigh"
    assert entra.json()["emails"][0]["value"] == "lee.ray@acme.example"
    group = scim("post", "Groups", {"schemas": [GROUP], "displayName": "Ops", "members": [{"value": okta["id"]}]})
    removed = scim.patch(f"Groups/{group.json()['id']}", {"op": "Remove", "path": "members",
                                                          "value": [{"value": okta["id"]}]})
    assert removed.status_code == 200, removed.content
    assert "members" not in removed.json()


@pytest.mark.postgres_only
def test_row_level_security_shows_a_token_before_the_tenant_is_known_only_by_its_public_id(world, scim,
                                                                                            outsider_scim):
    from django.db import connection

    def count(sql, *params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    context.clear()
    assert count("SELECT count(*) FROM identity_scimtoken") == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('bastion.scim_token_id', %s, true)", [scim.token[4:16]])
    assert count("SELECT count(*) FROM identity_scimtoken") == 1
    assert count("SELECT count(*) FROM identity_scimtoken WHERE public_id = %s", outsider_scim.token[4:16]) == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('bastion.scim_token_id', '', true)")
        cursor.execute("SELECT set_config('bastion.org_id', %s, true)", [str(world.globex.organisation.id)])
        cursor.execute("UPDATE identity_scimtoken SET revoked_at = now() WHERE public_id = %s", [scim.token[4:16]])
        assert cursor.rowcount == 0
    assert count("SELECT count(*) FROM identity_scimtoken") == 1
