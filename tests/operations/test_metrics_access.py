"""/metrics answers only a scraper with the bearer token or on an allowed network; everyone else,
signed-in members of any organisation included, gets 401 and the API's error body."""

from __future__ import annotations

import ipaddress

import pytest

from tests.operations.scrape import TOKEN, samples, scrape


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.BASTION_METRICS_TOKEN = TOKEN
    settings.BASTION_METRICS_ALLOWED_NETWORKS = []


def _refused(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["error"]["code"] == "unauthenticated" and body["error"]["fields"] == {}
    assert b"bastion_" not in response.content


@pytest.mark.django_db
def test_without_the_token_401_with_it_200(client):
    _refused(client.get("/metrics"))
    _refused(client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token-of-the-same-length-xxxxxxxx"))
    _refused(client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}"))
    _refused(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN[:-1]}"))
    text = scrape(client)
    names = {sample.name for sample in samples(text)}
    assert {"bastion_http_requests_total", "bastion_probe_up", "bastion_probe_duration_seconds",
            "bastion_rate_limited_total", "bastion_crypto_key_max_age_seconds"} <= names


@pytest.mark.django_db
def test_nothing_but_get(client):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_members_of_any_organisation_get_nothing_without_the_token(world, client_for):
    for organisation in (world.acme, world.globex):  # the insider and the outsider alike
        _refused(client_for(organisation.users["owner"]).get("/metrics"))


@pytest.mark.django_db
def test_an_allowed_network_needs_no_token(client, settings):
    settings.BASTION_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.1.0.0/16")]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    _refused(client.get("/metrics", REMOTE_ADDR="10.2.2.3"))


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_forwarded_client_is_checked_not_the_proxy(client, settings):
    settings.BASTION_TRUSTED_PROXIES = ["10.9.0.1"]
    settings.BASTION_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.9.0.0/24")]
    # The proxy itself is in the allowed network; the client it forwards for is not.
    _refused(client.get("/metrics", REMOTE_ADDR="10.9.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7"))
    assert client.get("/metrics", REMOTE_ADDR="10.9.0.1", HTTP_X_FORWARDED_FOR="10.9.0.20").status_code == 200
    # A client's own X-Forwarded-For is not believed (it is not a trusted proxy).
    _refused(client.get("/metrics", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.9.0.20"))


@pytest.mark.django_db
def test_the_probes_answer_at_scrape_time(client):
    from tests.operations.scrape import value

    text = scrape(client)
    assert value(text, "bastion_probe_up", component="database") == 1
    assert value(text, "bastion_probe_up", component="cache") == 1
    assert 0 < value(text, "bastion_probe_duration_seconds", component="database") < 5
