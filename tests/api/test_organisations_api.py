"""Founding and renaming organisations."""

from __future__ import annotations

import json


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_a_user_founds_an_organisation_and_owns_it(world, client_for):
    client = client_for(world.acme.users["viewer"])
    response = _post(client, "/api/v1/orgs", {"name": "Initech", "slug": "initech"})
    assert response.status_code == 201, response.content
    # An owner now: confined to setting up a second factor from the very next request (issue 12).
    confined = client.get("/api/v1/orgs")
    assert confined.status_code == 403 and confined.json()["error"]["code"] == "mfa_enrolment_required"
    client = client_for(world.acme.users["viewer"])  # enrolled, signed in with it
    assert {o["slug"] for o in client.get("/api/v1/orgs").json()} == {"acme", "initech"}
    members = client.get("/api/v1/orgs/initech/members").json()["items"]
    assert [(m["email"], m["role"]) for m in members] == [("viewer@acme.example", "owner")]
    # Nobody else sees it.
    assert client_for(world.globex.users["owner"]).get("/api/v1/orgs/initech").status_code == 404


def test_slugs_are_validated_and_unique(world, client_for):
    client = client_for(world.acme.users["viewer"])
    taken = _post(client, "/api/v1/orgs", {"name": "Copy", "slug": "globex"})
    assert taken.status_code == 409 and taken.json()["error"]["fields"]["slug"][0]["code"] == "slug_taken"
    bad = _post(client, "/api/v1/orgs", {"name": "Bad", "slug": "Not A Slug"})
    assert bad.status_code == 422 and "slug" in bad.json()["error"]["fields"]


def test_self_service_can_be_turned_off(world, client_for, settings):
    settings.BASTION_SELF_SERVICE_ORGANISATIONS = False
    assert _post(client_for(world.acme.users["owner"]), "/api/v1/orgs", {"name": "X", "slug": "x"}).status_code == 403


def test_only_managers_rename(world, client_for):
    url = "/api/v1/orgs/acme"
    body = json.dumps({"name": "Acme Group"})
    assert client_for(world.acme.users["editor"]).patch(url, data=body, content_type="application/json").status_code == 403
    response = client_for(world.acme.users["admin"]).patch(url, data=body, content_type="application/json")
    assert response.status_code == 200 and response.json()["name"] == "Acme Group"
