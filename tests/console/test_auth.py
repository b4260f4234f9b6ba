"""Signing in and out, the organisation chooser, and every console URL declaring its access."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from bastion.console import urls as console_urls
from tests.conftest import PASSWORD
from tests.sign_in import sign_in

pytestmark = pytest.mark.django_db

MARKERS = ("required_permission", "requires_authentication", "public")


def _console_patterns(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _console_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def test_every_console_view_declares_exactly_one_access_marker():
    for route, pattern in _console_patterns(console_urls.urlpatterns):
        markers = [m for m in MARKERS if hasattr(pattern.callback, m)]
        assert len(markers) == 1, f"{route}: {markers}"


def test_markers_are_visible_on_resolved_views():
    assert resolve(reverse("account_login")).func.public is True
    assert resolve(reverse("account_logout")).func.public is True
    assert resolve(reverse("console:home")).func.requires_authentication is True
    project = resolve("/o/acme/p/00000000-0000-0000-0000-000000000001/")
    assert project.func.required_permission == "projects.view"
    assert get_resolver().resolve("/o/acme/members/").func.required_permission == "members.view"


def test_login_page_renders(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert b'name="login"' in response.content and b'type="password"' in response.content
    # No inline code (a strict CSP allows none): scripts are files, or JSON data that never runs.
    scripts = re.findall(rb"<script[^>]*>", response.content)
    assert scripts and all(b" src=" in tag or b'type="application/json"' in tag for tag in scripts)
    assert b"style=" not in response.content and b" on" + b"click=" not in response.content


def test_wrong_password_fails(client, world):
    response = sign_in(client, "editor@acme.example", "wrong")
    assert response.status_code == 200
    assert b"The email address and/or password you specified are not correct." in response.content
    assert "_auth_user_id" not in client.session


def test_signing_in_goes_to_the_only_organisation(client, world):
    response = sign_in(client, "Editor@Acme.example", PASSWORD, follow=True)
    assert response.redirect_chain[-1][0] == reverse("console:dashboard", kwargs={"org": "acme"})
    assert b"Acme Corp UK" in response.content
    assert b"Sign out" in response.content
    # The account menu: who is signed in, and every page of their own account.
    menu = response.content.decode().split('<details class="account">')[1].split("</details>")[0]
    assert "editor@acme.example" in menu
    for name in ("mfa_index", "account_change_password", "account_email", "usersessions_list", "privacy_settings"):
        assert f'href="{reverse(name)}"' in menu, name


def test_signing_in_honours_next(client, world):
    target = reverse("console:members", kwargs={"org": "acme"})
    response = client.post(reverse("account_login") + f"?next={target}",
                           {"login": "viewer@acme.example", "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response.url == target


def test_anonymous_is_sent_to_sign_in(client, world):
    path = reverse("console:project", kwargs={"org": "acme", "project_id": world.acme.project.id})
    response = client.get(path)
    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={path}"


def test_sign_out_is_post_only(client_for, world):
    client = client_for(world.acme.users["viewer"])
    page = client.get(reverse("account_logout"))  # a confirmation page: GET never signs out
    assert page.status_code == 200 and "_auth_user_id" in client.session
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_chooser_lists_every_organisation_and_switches(client_for, world):
    from bastion.tenancy import actions, context

    user = world.acme.users["viewer"]
    with context.tenant_context(world.globex.organisation.id):
        actions.add_membership(world.globex.organisation, user=user, role="viewer")
    client = client_for(user)
    home = client.get(reverse("console:home"))
    assert home.status_code == 200
    assert b"Acme Corp" in home.content and b"Globex Ltd" in home.content
    switched = client.get(reverse("console:organisations"), {"org": "globex"})
    assert switched.status_code == 302 and switched.url == reverse("console:dashboard", kwargs={"org": "globex"})
    # Not a member: the chooser is shown, nothing else.
    assert client.get(reverse("console:organisations"), {"org": "initech"}).status_code == 200


def test_unknown_url_renders_the_console_404(client_for, world):
    response = client_for(world.acme.users["viewer"]).get("/no/such/page/")
    assert response.status_code == 404
    assert b"Not found" in response.content
