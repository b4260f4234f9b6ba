"""Customer-managed keys (BYOK) on ``aws-kms``: acme's keys wrapped under a KMS key in acme's own AWS
account (a second account in moto_server, reached through a role with acme's external id). Disabling
the key makes acme's records and evidence unreadable within the data-key cache's lifetime (an injected
clock), with a clear ``customer_key_unavailable``; globex is untouched; re-enabling restores access.
Every use of the key is an event in acme's chain, counted per hour."""

from __future__ import annotations

import boto3
import pytest

from bastion.audit.verification import verify_chain
from bastion.crypto import customer_kms, keyring
from bastion.crypto.key_models import DataKey, IndexKey
from bastion.tenancy import context

CUSTOMER_ACCOUNT = "111111111111"
ROLE_ARN = f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/bastion-byok"


@pytest.fixture
def aws_kms(settings, moto_endpoint):
    settings.BASTION_KMS = "aws-kms"
    settings.BASTION_AWS_KMS_ENDPOINT_URL = moto_endpoint
    settings.BASTION_DATA_KEY_CACHE_SECONDS = 300
    keyring.forget_cached()
    customer_kms.forget_clients()
    yield
    keyring.forget_cached()
    customer_kms.forget_clients()


@pytest.fixture
def customer_account(moto_endpoint):
    """A KMS client acting as the customer's own administrator, in their own account."""
    sts = boto3.client("sts", endpoint_url=moto_endpoint, region_name="us-east-1")
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/admin",
                                  RoleSessionName="customer-admin")["Credentials"]
    return boto3.client("kms", endpoint_url=moto_endpoint, region_name="us-east-1",
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


@pytest.fixture
def orgs(aws_kms, world):
    return world


@pytest.fixture
def clock(monkeypatch):
    """The data-key cache's clock, moved on by the test."""
    now = [keyring._clock()]
    monkeypatch.setattr(keyring, "_clock", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds
    return advance


def _api(client, ns, suffix: str):
    return client.get(f"/api/v1/orgs/{ns.slug}/projects/{ns.project.id}{suffix}")


def _providers(ns) -> set[tuple[str, str]]:
    with context.tenant_context(ns.organisation.id):
        rows = [*DataKey.objects.filter(organisation_id=ns.organisation.id),
                *IndexKey.objects.filter(organisation_id=ns.organisation.id)]
        return {(row.provider, row.kek_id) for row in rows}


def _configure(client, ns, key_arn: str, role_arn: str = ROLE_ARN):
    return client.put(f"/api/v1/orgs/{ns.slug}/customer-key", {"key_arn": key_arn, "role_arn": role_arn},
                      content_type="application/json")


def test_disabling_the_customers_key_locks_its_data_within_the_cache_bound_and_enabling_restores_it(
        orgs, client_for, customer_account, clock):
    acme, globex = orgs.acme, orgs.globex
    admin = client_for(acme.users["owner"])
    status = admin.get("/api/v1/orgs/acme/customer-key").json()
    assert status["configured"] is False and status["state"] == "not configured" and len(status["external_id"]) >= 24

    key = customer_account.create_key(Description="acme's key for Bastion")["KeyMetadata"]
    answer = _configure(admin, acme, key["Arn"])
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "Enabled" and answer.json()["key_arn"] == key["Arn"]
    assert _providers(acme) == {(customer_kms.NAME, key["Arn"])}  # every data key and the index key
    assert {provider for provider, _ in _providers(globex)} == {"aws-kms"}

    keyring.forget_cached()
    suppliers = _api(admin, acme, "/suppliers")
    assert suppliers.status_code == 200 and suppliers.json()["items"][0]["contact_email"] == "pat@acme-supplier.example"
    assert _api(admin, acme, f"/evidence/{acme.evidence.id}/download").status_code == 200

    customer_account.disable_key(KeyId=key["KeyId"])
    assert _api(admin, acme, "/suppliers").status_code == 200  # still cached: at most the cache's lifetime
    assert admin.get("/api/v1/orgs/acme/customer-key").json()["state"] == "Disabled"

    clock(301)
    refused = _api(admin, acme, "/suppliers")
    assert refused.status_code == 503, refused.content
    assert refused.json()["error"]["code"] == "customer_key_unavailable"
    assert "Disabled" in refused.json()["error"]["detail"]
    download = _api(admin, acme, f"/evidence/{acme.evidence.id}/download")
    assert download.status_code == 503 and download.json()["error"]["code"] == "customer_key_unavailable"
    # The other organisation is unaffected.
    other = _api(client_for(globex.users["owner"]), globex, "/suppliers")
    assert other.status_code == 200 and other.json()["items"][0]["contact_email"] == "pat@globex-supplier.example"

    customer_account.enable_key(KeyId=key["KeyId"])
    assert _api(admin, acme, "/suppliers").json()["items"][0]["contact_email"] == "pat@acme-supplier.example"

    # Every use was recorded in acme's chain, which still verifies; counted per hour for acme's admins.
    uses = admin.get("/api/v1/orgs/acme/customer-key").json()["uses_per_hour"]
    assert sum(hour["uses"] for hour in uses) >= 3
    assert verify_chain(str(acme.organisation.id)).ok


def test_a_key_the_role_cannot_use_or_a_bad_arn_is_refused_and_nothing_changes(orgs, client_for, settings):
    acme = orgs.acme
    admin = client_for(acme.users["owner"])
    before = _providers(acme)
    missing = f"arn:aws:kms:us-east-1:{CUSTOMER_ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    answer = _configure(admin, acme, missing)
    assert answer.status_code == 422 and answer.json()["error"]["fields"]["__all__"][0]["code"] == "customer_key_unavailable"
    answer = _configure(admin, acme, "alias/acme")
    assert answer.status_code == 422
    settings.BASTION_REGION = "eu-central-1"
    answer = _configure(admin, acme, missing)
    assert answer.status_code == 422 and answer.json()["error"]["fields"]["__all__"][0]["code"] == "residency"
    assert _providers(acme) == before


def test_customer_keys_need_aws_kms(world, client_for):
    answer = _configure(client_for(world.acme.users["owner"]), world.acme,
                        f"arn:aws:kms:us-east-1:{CUSTOMER_ACCOUNT}:key/00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"]["__all__"][0]["code"] == "customer_keys_unsupported"


def test_only_the_organisations_admins_see_or_set_its_key(orgs, client_for):
    acme, globex = orgs.acme, orgs.globex
    outsider = client_for(globex.users["owner"])
    assert outsider.get("/api/v1/orgs/acme/customer-key").status_code == 404
    assert _configure(outsider, acme, "x", "y").status_code == 404
    viewer = client_for(acme.users["viewer"])
    assert viewer.get("/api/v1/orgs/acme/customer-key").status_code == 403


def test_the_security_page_shows_the_keys_state_and_its_uses(orgs, client_for, customer_account):
    acme = orgs.acme
    admin = client_for(acme.users["owner"])
    key = customer_account.create_key(Description="acme's key")["KeyMetadata"]
    assert _configure(admin, acme, key["Arn"]).status_code == 200
    page = admin.get("/o/acme/security/").content.decode()
    assert key["Arn"] in page and ">Enabled<" in page and "Uses of your key, per hour" in page
    customer_account.disable_key(KeyId=key["KeyId"])
    page = admin.get("/o/acme/security/").content.decode()
    assert ">Disabled<" in page and "your data is unreadable" in page
