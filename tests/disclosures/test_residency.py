"""Residency: ``BASTION_REGION`` is declared, and storage, backup, anchor and KMS endpoints in
another region are refused by ``bastion config check`` (and so by ``bastion serve`` at start).
No organisation is involved: what is guarded is the configuration itself."""

from __future__ import annotations

import pytest

from bastion.disclosures.residency import region_of
from tests.test_config_check import check, production


@pytest.mark.parametrize(("url", "region"), [
    ("s3://evidence/prefix?region=eu-central-1", "eu-central-1"),
    ("s3://evidence?endpoint_url=https://s3.us-east-2.amazonaws.com", "us-east-2"),
    ("https://bucket.s3.eu-west-1.amazonaws.com/x", "eu-west-1"),
    ("https://kms.ap-southeast-2.amazonaws.com", "ap-southeast-2"),
    ("arn:aws:kms:us-west-2:111122223333:key/1234abcd", "us-west-2"),
    ("s3://evidence?endpoint_url=http://127.0.0.1:9000", None),
    ("/var/lib/bastion/backups", None),
    ("", None),
])
def test_the_region_an_endpoint_names(url, region):
    assert region_of(url) == region


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def test_an_undeclared_region_is_refused_in_production(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(tmp_path, BASTION_REGION=""))
    assert code == 1 and findings.get("bastion.E760") == "error", output


def test_storage_and_kms_in_another_region_are_refused(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(
        tmp_path, BASTION_STORAGE_URL="s3://evidence?region=us-east-1", BASTION_KMS="aws-kms",
        BASTION_AWS_REGION="eu-central-1"))
    assert code == 1 and findings.get("bastion.E761") == "error", output
    assert "BASTION_STORAGE_URL" in output and "BASTION_AWS_REGION" not in output.split("E761")[1], output

    code, findings, output = check(data_dir, **production(
        tmp_path, BASTION_STORAGE_URL="s3://evidence?region=eu-central-1", BASTION_KMS="aws-kms",
        BASTION_AWS_REGION="us-west-2"))
    assert code == 1 and "KMS" in output and findings.get("bastion.E761") == "error", output


def test_everything_in_the_declared_region_passes(tmp_path, data_dir):
    code, findings, output = check(data_dir, **production(
        tmp_path, BASTION_STORAGE_URL="s3://evidence?region=eu-central-1"))
    assert "bastion.E761" not in findings and "bastion.E760" not in findings, output


def test_an_unparsable_region(data_dir):
    code, findings, output = check(data_dir, BASTION_REGION="Germany")
    assert code == 1 and "BASTION_REGION" in output, output
