"""Single sign-on per organisation, end to end through real identity providers started here:
npm's oidc-provider (OpenID Connect) and saml-idp (SAML 2.0), and a real DNS server for domain
verification. Users of a verified domain are sent to their IdP and provisioned just in time; an
IdP cannot vouch for another domain; tampered, unsigned, unrequested, out-of-time assertions and
ID tokens for another audience are refused."""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.identity import lockout
from bastion.identity.sso import configuration as sso_configuration
from bastion.identity.sso import discovery as sso_discovery
from bastion.identity.sso.models import SSOConnection, VerifiedDomain
from bastion.tenancy import context
from bastion.tenancy.models import Membership
from tests.conftest import PASSWORD
from tests.peers.identity_providers import (
    dns_server,
    oidc_provider,
    saml_idp,
    saml_response_from_idp,
    sign_in_at_oidc_provider,
)
from tests.sign_in import invitation_link, reauthenticate, sign_in, signed_in_with_second_factor

pytestmark = pytest.mark.django_db(transaction=False)
DOMAIN = "acme-corp.example"
HOST = "bastion.test"  # Bastion's host name here (python3-saml refuses single-label hosts such as "testserver")
CALLBACK = f"http://{HOST}/accounts/oidc/acme/login/callback/"
ACS = f"http://{HOST}/accounts/saml/acme/acs/"
SP_ENTITY_ID = f"http://{HOST}/accounts/saml/acme/metadata/"
CLIENT = {"client_id": "bastion-acme", "client_secret": "a client secret of at least 32 characters",
          "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "client_secret_post"}


@pytest.fixture(autouse=True)
def plain_http_idps(settings):
    settings.BASTION_SSO_ALLOW_HTTP = True  # the test IdPs run on http://localhost
    settings.BASTION_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]  # … on this machine
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]


def _browser() -> Client:
    return Client(HTTP_HOST=HOST)  # as a browser does, with a Host header (python3-saml reads it)


def _events(organisation, action):
    with context.tenant_context(organisation.id):
        return personal.shown(list(AuditEvent.objects.filter(chain_id=organisation.id, action=action)))


def _verified_domain(world, domain=DOMAIN, organisation=None):
    organisation = organisation or world.acme.organisation
    with context.tenant_context(organisation.id):
        VerifiedDomain.objects.create(organisation=organisation, domain=domain, token="t", verified_at=timezone.now())


def _connect(world, **fields):
    with context.tenant_context(world.acme.organisation.id):
        connection = SSOConnection(organisation=world.acme.organisation, slug="acme", **fields)
        connection.save()
    return connection


def _member(world, email):
    with context.tenant_context(world.acme.organisation.id):
        return Membership.objects.filter(user__email=email, workspace=None, project=None).first()


@pytest.fixture
def oidc(world, tmp_path):
    with oidc_provider([CLIENT, {**CLIENT, "client_id": "another-app"}], tmp_path) as issuer:
        _verified_domain(world)
        _connect(world, protocol="oidc", issuer=issuer, client_id=CLIENT["client_id"],
                 client_secret=CLIENT["client_secret"])
        yield issuer


def _start(client, email, path="/accounts/login/"):
    """Enter a work email at sign-in: a domain with SSO is sent to its IdP."""
    field = "login" if path.startswith("/accounts/login/") else "email"
    response = client.post(path, {field: email, "password": "whatever was typed"})
    assert response.status_code == 302, response.status_code
    return response["Location"]


def _finish_oidc(client, back_url):
    parts = urllib.parse.urlsplit(back_url)
    return client.get(parts.path + "?" + parts.query)


def test_oidc_sign_in_provisions_the_user_just_in_time(world, oidc):
    client = _browser()
    authorize = _start(client, "ida@acme-corp.example")
    assert authorize.startswith(f"{oidc}/auth?") and "client_id=bastion-acme" in authorize
    done = _finish_oidc(client, sign_in_at_oidc_provider(authorize, "ida@acme-corp.example", CALLBACK))
    assert done.status_code == 302, done.content[:500]
    user = type(world.acme.users["owner"]).objects.get(email="ida@acme-corp.example")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert _member(world, user.email).builtin_role == "viewer"
    assert EmailAddress.objects.get(user=user).verified
    assert not user.has_usable_password()
    assert [e.changes["user"] for e in _events(world.acme.organisation, "member.added")][-1] == user.email
    assert _events(world.acme.organisation, "auth.login.succeeded")
    with context.tenant_context(world.globex.organisation.id):  # the outsider organisation: nothing
        assert not Membership.objects.filter(user=user).exists()


def test_the_sso_button_and_an_existing_account_are_linked(world, oidc):
    viewer = world.acme.users["viewer"]
    viewer.email = "viewer@acme-corp.example"
    viewer.save()
    client = _browser()
    authorize = _start(client, viewer.email, path="/accounts/sso/")
    assert _finish_oidc(client, sign_in_at_oidc_provider(authorize, viewer.email, CALLBACK)).status_code == 302
    assert client.session["_auth_user_id"] == str(viewer.pk)
    assert _member(world, viewer.email).builtin_role == "viewer"  # unchanged, not duplicated


def test_an_issuer_in_the_platforms_own_network_is_not_called(world, oidc, settings):
    """Server-side request forgery through an issuer URL: once the platform's own network is not allowed
    (the default), the token request to the IdP on this machine is never made and the sign-in fails."""
    client = _browser()
    back = sign_in_at_oidc_provider(_start(client, "ida@acme-corp.example"), "ida@acme-corp.example", CALLBACK)
    settings.BASTION_OUTBOUND_ALLOWED_NETWORKS = []
    refused = _finish_oidc(client, back)
    assert refused.status_code == 502 and b"Third-Party Login Failure" in refused.content
    assert "not public" in _events(world.acme.organisation, "auth.sso.failed")[-1].changes["detail"]
    assert "_auth_user_id" not in client.session
    assert not type(world.acme.users["owner"]).objects.filter(email="ida@acme-corp.example").exists()

    admin = _browser()
    signed_in_with_second_factor(admin, world.acme.users["owner"])
    refused = admin.put("/api/v1/orgs/acme/sso", {"protocol": "oidc", "issuer": oidc, "client_id": "x",
                                                  "client_secret": "y"}, content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"]["issuer"][0]["code"] == "private_address"


def test_an_idp_that_cannot_be_reached_ends_the_sign_in_with_a_failure_not_an_error(world, oidc):
    client = _browser()
    back = sign_in_at_oidc_provider(_start(client, "ida@acme-corp.example"), "ida@acme-corp.example", CALLBACK)
    with context.tenant_context(world.acme.organisation.id):
        SSOConnection.objects.filter(slug="acme").update(issuer="http://localhost:9")  # nothing listens there
    failed = _finish_oidc(client, back)
    assert failed.status_code == 502 and "_auth_user_id" not in client.session
    assert _events(world.acme.organisation, "auth.sso.failed")


def test_sso_is_the_way_back_in_for_a_locked_out_account(world, oidc):
    email = "ida@acme-corp.example"
    client = _browser()
    _finish_oidc(client, sign_in_at_oidc_provider(_start(client, email), email, CALLBACK))
    for _ in range(lockout.ACCOUNT_FAILURES):
        lockout.record_failure(email, "203.0.113.9")
    assert lockout.locked_for(email, None) is not None
    again = _browser()
    assert _finish_oidc(again, sign_in_at_oidc_provider(_start(again, email), email, CALLBACK)).status_code == 302
    assert "_auth_user_id" in again.session


def test_an_idp_cannot_vouch_for_another_domain(world, oidc):
    client = _browser()
    authorize = _start(client, "ida@acme-corp.example")
    # The IdP (or whoever controls it) asserts an address of a domain acme never proved.
    refused = _finish_oidc(client, sign_in_at_oidc_provider(authorize, "ceo@globex.example", CALLBACK))
    assert refused.status_code == 403 and "_auth_user_id" not in client.session
    assert not type(world.acme.users["owner"]).objects.filter(email="ceo@globex.example").exists()
    [event] = _events(world.acme.organisation, "auth.sso.refused")
    assert event.changes == {"email": "ceo@globex.example", "reason": "domain_not_verified"}


def test_an_invitee_on_a_domain_with_sso_goes_through_the_idp_and_cannot_sign_up_with_a_password(
        world, oidc, client_for):
    """An organisation whose domain signs in with SSO sends its invitees there: the emailed link asks
    them to sign in, the sign-in page hands their address to the IdP and brings them back to the link;
    a password sign-up for the address is refused (it would be an account the IdP does not govern)."""
    invited = client_for(world.acme.users["admin"]).post(
        "/api/v1/orgs/acme/members", json.dumps({"email": "newcomer@acme-corp.example", "role": "editor"}),
        content_type="application/json")
    assert invited.status_code == 202, invited.content
    [message] = [m for m in mail.outbox if m.to == ["newcomer@acme-corp.example"]]
    assert "through your organisation's single sign-on" in message.body
    link = invitation_link(message)

    client = _browser()
    to_sign_in = client.get(link)
    assert to_sign_in.status_code == 302 and urllib.parse.unquote(to_sign_in["Location"]).endswith(f"?next={link}")
    refused = client.post("/accounts/signup/", {"email": "newcomer@acme-corp.example", "password1": PASSWORD,
                                                "password2": PASSWORD})
    assert refused.status_code == 200 and "single sign-on" in refused.content.decode()
    User = type(world.acme.users["owner"])  # noqa: N806
    assert not User.objects.filter(email="newcomer@acme-corp.example").exists()

    authorize = _start(client, "newcomer@acme-corp.example", path=f"/accounts/login/?next={link}")
    assert authorize.startswith(f"{oidc}/auth?")
    back = _finish_oidc(client, sign_in_at_oidc_provider(authorize, "newcomer@acme-corp.example", CALLBACK))
    assert back.status_code == 302 and back["Location"].endswith(link)
    user = User.objects.get(email="newcomer@acme-corp.example")
    assert not user.has_usable_password() and client.session["_auth_user_id"] == str(user.pk)
    assert _member(world, user.email) is None  # no default role: the invitation decides
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    assert _member(world, user.email).builtin_role == "editor"  # the invited role, not the SSO default
    with context.tenant_context(world.globex.organisation.id):
        assert not Membership.objects.filter(user=user).exists()


def test_other_domains_still_sign_in_with_a_password(world, oidc):
    assert sign_in(_browser(), world.acme.users["editor"].email, PASSWORD).status_code == 302


class _TokenSwap(BaseHTTPRequestHandler):
    """Stands between Bastion and the provider's token endpoint and hands back an ID token the
    provider issued to another client (a token-substitution attack)."""

    upstream: str = ""
    foreign_id_token: str = ""

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        upstream = requests.post(self.upstream, data=body, headers={"Content-Type": self.headers["Content-Type"]})
        tokens = upstream.json()
        if self.foreign_id_token:
            tokens["id_token"] = self.foreign_id_token
        payload = json.dumps(tokens).encode()
        self.send_response(upstream.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def _id_token_for(issuer, client_id, nonce):
    """A real ID token from the provider, for ``client_id``, obtained as that client would."""
    redirect = CALLBACK
    query = urllib.parse.urlencode({"client_id": client_id, "response_type": "code", "scope": "openid email",
                                    "redirect_uri": redirect, "nonce": nonce or "n", "state": "s"})
    back = sign_in_at_oidc_provider(f"{issuer}/auth?{query}", "ida@acme-corp.example", redirect)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)["code"][0]
    tokens = requests.post(f"{issuer}/token", data={"grant_type": "authorization_code", "code": code,
                                                    "redirect_uri": redirect, "client_id": client_id,
                                                    "client_secret": CLIENT["client_secret"]}).json()
    return tokens["id_token"]


@pytest.mark.parametrize("swap", [False, True], ids=["own-token", "token-for-another-audience"])
def test_an_id_token_for_another_audience_is_refused(world, oidc, swap):
    discovery = requests.get(f"{oidc}/.well-known/openid-configuration").json()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenSwap)
    _TokenSwap.upstream = discovery["token_endpoint"]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with context.tenant_context(world.acme.organisation.id):
            connection = SSOConnection.objects.get()
        original = sso_discovery.social_app

        def through_proxy(conn):
            app = original(conn)
            app.settings["openid_configuration_overrides"] = {
                "token_endpoint": f"http://127.0.0.1:{server.server_port}/token"}
            return app

        sso_discovery.social_app = through_proxy
        client = _browser()
        authorize = _start(client, "ida@acme-corp.example")
        nonce = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize).query).get("nonce", [""])[0]
        _TokenSwap.foreign_id_token = _id_token_for(oidc, "another-app", nonce) if swap else ""
        result = _finish_oidc(client, sign_in_at_oidc_provider(authorize, "ida@acme-corp.example", CALLBACK))
        assert connection.client_id == "bastion-acme"
        if swap:
            assert "_auth_user_id" not in client.session and result.status_code != 302
            assert "audience" in _failure(world)["detail"].lower()
        else:
            assert result.status_code == 302 and "_auth_user_id" in client.session
    finally:
        sso_discovery.social_app = original
        _TokenSwap.foreign_id_token = ""
        server.shutdown()


# SAML 2.0

@pytest.fixture
def idp(world, tmp_path):
    with saml_idp(acs_url=ACS, audience=SP_ENTITY_ID, issuer="urn:bastion-test:idp", tmp_path=tmp_path) as running:
        _verified_domain(world)
        _connect(world, protocol="saml", idp_entity_id=running["issuer"], idp_sso_url=running["sso_url"],
                 idp_certificate=running["certificate"])
        yield running


def _post_to_acs(client, fields):
    response = client.post("/accounts/saml/acme/acs/", fields)
    if response.status_code == 302 and "/acs/finish/" in response["Location"]:
        response = client.get(response["Location"])
    return response


def _failure(world) -> dict:
    """What the last refused sign-in was refused for (its audit event)."""
    return _events(world.acme.organisation, "auth.sso.failed")[-1].changes


def _xml(fields) -> str:
    return base64.b64decode(fields["SAMLResponse"]).decode()


def _with_xml(fields, xml: str) -> dict:
    return {**fields, "SAMLResponse": base64.b64encode(xml.encode()).decode()}


def test_saml_sign_in_provisions_the_user_just_in_time(world, idp):
    client = _browser()
    redirect = _start(client, "sam@acme-corp.example")
    assert redirect.startswith(idp["sso_url"] + "?SAMLRequest=")
    fields = saml_response_from_idp(redirect, idp, email="sam@acme-corp.example")
    assert "<ds:Signature" in _xml(fields) or "<Signature" in _xml(fields)
    response = _post_to_acs(client, fields)
    assert response.status_code == 302, response.content[:800]
    user = type(world.acme.users["owner"]).objects.get(email="sam@acme-corp.example")
    assert client.session["_auth_user_id"] == str(user.pk) and user.first_name == "Ida"
    assert _member(world, user.email).builtin_role == "viewer"


def test_a_tampered_assertion_is_refused(world, idp):
    client = _browser()
    fields = saml_response_from_idp(_start(client, "sam@acme-corp.example"), idp, email="sam@acme-corp.example")
    forged = _xml(fields).replace("sam@acme-corp.example", "admin@acme-corp.example")
    response = _post_to_acs(client, _with_xml(fields, forged))
    assert "_auth_user_id" not in client.session and response.status_code != 302
    assert not type(world.acme.users["owner"]).objects.filter(email="admin@acme-corp.example").exists()
    assert "Signature validation failed" in _failure(world)["detail"]


def test_an_unsigned_assertion_is_refused(world, idp):
    client = _browser()
    fields = saml_response_from_idp(_start(client, "sam@acme-corp.example"), idp, email="sam@acme-corp.example")
    unsigned = re.sub(r"<(ds:)?Signature\b.*?</(ds:)?Signature>", "", _xml(fields), flags=re.S)
    assert "Signature" not in unsigned
    _post_to_acs(client, _with_xml(fields, unsigned))
    assert "_auth_user_id" not in client.session
    assert "not signed" in _failure(world)["detail"]


def test_idp_initiated_sign_in_is_refused_unless_enabled(world, idp):
    client = _browser()
    unrequested = saml_response_from_idp(None, idp, email="sam@acme-corp.example")
    _post_to_acs(client, unrequested)
    assert "_auth_user_id" not in client.session
    with context.tenant_context(world.acme.organisation.id):
        SSOConnection.objects.update(allow_idp_initiated=True)
    allowed = _browser()
    _post_to_acs(allowed, saml_response_from_idp(None, idp, email="sam@acme-corp.example"))
    assert "_auth_user_id" in allowed.session


@pytest.mark.parametrize("offset", [-1, 1], ids=["our-clock-behind", "our-clock-ahead"])
def test_clock_skew_is_bounded(world, idp, settings, monkeypatch, offset):
    client = _browser()
    fields = saml_response_from_idp(_start(client, "sam@acme-corp.example"), idp, email="sam@acme-corp.example")
    # saml-idp makes assertions valid for an hour from now: beyond that (ahead) or before now
    # (behind), by more than the allowed skew, they are refused.
    shift = (3600 if offset > 0 else 0) + settings.BASTION_SSO_CLOCK_SKEW_SECONDS + 60
    real_now = OneLogin_Saml2_Utils.now
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: real_now() + offset * shift))
    _post_to_acs(client, fields)
    assert "_auth_user_id" not in client.session
    assert ("expired" if offset > 0 else "not yet valid") in _failure(world)["detail"]


def test_saml_for_another_domain_is_refused(world, idp):
    client = _browser()
    fields = saml_response_from_idp(_start(client, "sam@acme-corp.example"), idp, email="boss@globex.example")
    response = _post_to_acs(client, fields)
    assert response.status_code == 403 and "_auth_user_id" not in client.session


# Configuration by an organisation admin, and domain verification against a real DNS server

def test_an_admin_configures_sso_and_proves_a_domain(world, settings):
    records: dict[str, list[str]] = {}
    with dns_server(records) as nameserver:
        settings.BASTION_DNS_NAMESERVERS = [nameserver]
        admin = _browser()
        signed_in_with_second_factor(admin, world.acme.users["admin"])
        configured = admin.put("/api/v1/orgs/acme/sso", {
            "protocol": "oidc", "issuer": "https://idp.acme-corp.example", "client_id": "bastion",
            "client_secret": "s3cret-value-never-shown-again"}, content_type="application/json")
        assert configured.status_code == 200, configured.content
        assert configured.json()["has_client_secret"] is True and "s3cret" not in configured.content.decode()
        with context.tenant_context(world.acme.organisation.id):
            stored = SSOConnection.objects.values_list("client_secret", flat=True).get()
            assert "s3cret" not in stored  # encrypted at rest
            assert _events(world.acme.organisation, "sso.configured")[0].changes["client_secret"] == "[redacted]"

        added = admin.post("/api/v1/orgs/acme/sso/domains", {"domain": DOMAIN}, content_type="application/json")
        assert added.status_code == 201
        domain = added.json()
        early = admin.post(f"/api/v1/orgs/acme/sso/domains/{domain['id']}/verify")
        assert early.status_code == 422 and early.json()["error"]["fields"]["domain"][0]["code"] == "not_verified"
        records[DOMAIN] = ["v=spf1 -all", domain["txt_record"]]
        verified = admin.post(f"/api/v1/orgs/acme/sso/domains/{domain['id']}/verify")
        assert verified.status_code == 200 and verified.json()["verified_at"]

    outsider = _browser()
    signed_in_with_second_factor(outsider, world.globex.users["owner"])
    assert outsider.get("/api/v1/orgs/acme/sso").status_code == 404
    assert outsider.post(f"/api/v1/orgs/acme/sso/domains/{domain['id']}/verify").status_code == 404
    assert outsider.post("/api/v1/orgs/globex/sso/domains/" + domain["id"] + "/verify").status_code == 404
    viewer = _browser()
    signed_in_with_second_factor(viewer, world.acme.users["viewer"])
    assert viewer.get("/api/v1/orgs/acme/sso").status_code == 403
    settings.BASTION_SSO_ALLOW_HTTP = False
    plain = admin.put("/api/v1/orgs/acme/sso", {"protocol": "oidc", "issuer": "http://idp.example",
                                                "client_id": "x", "client_secret": "y"},
                      content_type="application/json")
    assert plain.status_code == 422 and plain.json()["error"]["fields"]["issuer"][0]["code"] == "https_required"


def test_a_domain_verified_by_one_organisation_cannot_be_taken_by_another(world, settings):
    _verified_domain(world)
    with context.tenant_context(world.globex.organisation.id):
        claim = VerifiedDomain.objects.create(organisation=world.globex.organisation, domain=DOMAIN, token="x")
    with dns_server({DOMAIN: ["bastion-domain-verification=x"]}) as nameserver:
        settings.BASTION_DNS_NAMESERVERS = [nameserver]
        with context.tenant_context(world.globex.organisation.id), pytest.raises(ValidationError) as refused:
            sso_configuration.verify_domain(claim)
    assert refused.value.error_dict["domain"][0].code == "domain_taken"


def test_a_clock_difference_within_the_skew_is_accepted(world, idp, settings, monkeypatch):
    client = _browser()
    fields = saml_response_from_idp(_start(client, "sam@acme-corp.example"), idp, email="sam@acme-corp.example")
    real_now = OneLogin_Saml2_Utils.now
    behind = settings.BASTION_SSO_CLOCK_SKEW_SECONDS - 30
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: real_now() - behind))
    _post_to_acs(client, fields)
    assert "_auth_user_id" in client.session


@pytest.fixture(params=["database", "redis"])
def shared_cache(request, settings):
    """The shared cache as deployed: the database by default, Redis (the local server, database
    15, keys of this test only) with REDIS_URL."""
    if request.param == "database":
        yield
        return
    import redis

    url, prefix = "redis://127.0.0.1:6379/15", f"sso-test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                   "KEY_PREFIX": prefix}}
    server = redis.Redis.from_url(url)
    yield
    keys = server.keys(f"{prefix}:*")
    assert any(b"saml-assertion" in key for key in keys)  # the id was remembered there
    if keys:
        server.delete(*keys)


def test_a_saml_response_signs_in_once(world, idp, shared_cache):
    with context.tenant_context(world.acme.organisation.id):
        SSOConnection.objects.update(allow_idp_initiated=True)
    captured = saml_response_from_idp(None, idp, email="sam@acme-corp.example")
    first = _browser()
    assert _post_to_acs(first, captured).status_code == 302 and "_auth_user_id" in first.session
    # Whoever saw the response in flight (a proxy log, the browser's history) posts it again.
    replay = _browser()
    refused = _post_to_acs(replay, captured)
    assert refused.status_code == 403 and "_auth_user_id" not in replay.session
    assert b"already used" in refused.content
    [event] = _events(world.acme.organisation, "auth.sso.refused")
    assert event.changes == {"email": "sam@acme-corp.example", "reason": "assertion_replayed"}
    fresh = _browser()  # a new assertion for the same person still signs in
    _post_to_acs(fresh, saml_response_from_idp(None, idp, email="sam@acme-corp.example"))
    assert "_auth_user_id" in fresh.session


def test_a_flood_of_cache_entries_does_not_make_an_assertion_replayable(world, idp):
    from django.core.cache import cache

    with context.tenant_context(world.acme.organisation.id):
        SSOConnection.objects.update(allow_idp_initiated=True)
    captured = saml_response_from_idp(None, idp, email="sam@acme-corp.example")
    _post_to_acs(_browser(), captured)
    # What an attacker can make the cache hold (rate-limit counters from many addresses …), well
    # past the database cache's default limit of 300 entries, at which it evicted a third.
    cache.set_many({f"flood-{i}": 1 for i in range(400)}, timeout=3600)
    replay = _browser()
    assert _post_to_acs(replay, captured).status_code == 403 and "_auth_user_id" not in replay.session


def test_an_address_on_a_domain_with_sso_cannot_be_added_to_a_password_account(world, oidc):
    """Adding an address is the other way to a password account on the domain (sign-up is refused
    above): SSO sign-in would link to it and leave a password the IdP does not govern."""
    viewer = world.acme.users["viewer"]
    client = signed_in_with_second_factor(_browser(), viewer)
    reauthenticate(client, PASSWORD)
    refused = client.post("/accounts/email/", {"email": "Viewer.Alias@ACME-corp.example", "action_add": ""})
    assert refused.status_code == 200 and "single sign-on" in refused.content.decode()
    assert not [m for m in mail.outbox if "acme-corp.example" in m.to[0].lower()]
    assert not EmailAddress.objects.filter(email__iendswith="@acme-corp.example").exists()
    # another domain is still added the usual way (a code to the new address)
    added = client.post("/accounts/email/", {"email": "viewer@elsewhere-mail.example", "action_add": ""})
    assert added.status_code == 302 and added.url == "/accounts/confirm-email/"
