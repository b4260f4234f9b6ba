"""Checkpoints anchored in S3 with Object Lock in compliance mode, against a real moto_server."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from bastion.audit.checkpoints import anchor_pending
from bastion.audit.verification import verify_chain
from tests.audit.db_tampering import committed, forget, make_chain, rewrite_consistently


@pytest.fixture
def locked_bucket(moto_endpoint, settings):
    """A bucket with Object Lock (compliance, 1 day by default) and Bastion's anchor URL pointing at it."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket = f"anchors-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}})
    settings.BASTION_AUDIT_ANCHOR_URL = f"s3://{bucket}/audit?endpoint_url={moto_endpoint}&region=us-east-1"
    return s3, bucket


@pytest.fixture
def anchored_chain(db, settings, locked_bucket):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 4
    chain_id = make_chain(10)
    assert committed(anchor_pending).ok
    yield chain_id
    forget(chain_id)


def _key(chain_id: str, size: int) -> str:
    return f"audit/{chain_id}/{size:020d}.json"


def test_each_checkpoint_is_an_object_locked_in_compliance_mode(anchored_chain, locked_bucket):
    s3, bucket = locked_bucket
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"audit/{anchored_chain}/")
    assert [o["Key"] for o in listed["Contents"]] == [_key(anchored_chain, 4), _key(anchored_chain, 8)]
    head = s3.head_object(Bucket=bucket, Key=_key(anchored_chain, 4))
    assert head["ObjectLockMode"] == "COMPLIANCE"
    record = json.loads(s3.get_object(Bucket=bucket, Key=_key(anchored_chain, 4))["Body"].read())
    assert record["type"] == "checkpoint" and record["body"]["tree_size"] == 4 and record["signature"]
    assert verify_chain(anchored_chain).ok


def test_the_anchors_cannot_be_deleted(anchored_chain, locked_bucket):
    s3, bucket = locked_bucket
    version = s3.list_object_versions(Bucket=bucket, Prefix=_key(anchored_chain, 4))["Versions"][0]["VersionId"]
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=_key(anchored_chain, 4), VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_a_rewrite_with_every_checkpoint_row_deleted_is_detected_from_s3(anchored_chain):
    rewrite_consistently(anchored_chain, 2, drop_checkpoints=True)
    report = verify_chain(anchored_chain)
    assert not report.ok and report.first_bad_seq == 4
    assert "tree size 4 is in the anchor store but missing from the database" in report.message


def test_an_overwrite_adds_a_version_the_first_stays_the_record(anchored_chain, locked_bucket):
    """The attacker rewrites the chain and overwrites the anchored object with a record of their own:
    the oldest version is still the record, and the attempt itself is reported."""
    s3, bucket = locked_bucket
    key = _key(anchored_chain, 4)
    forged = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    forged["body"]["root_hash"] = "11" * 32
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(forged).encode())
    assert len(s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]) == 2
    report = verify_chain(anchored_chain)
    assert not report.ok and report.first_bad_seq == 4
    assert "differing from its checkpoint at tree size 4 (an overwrite was attempted)" in report.message


def test_an_unreachable_bucket_fails_the_anchoring_and_the_verification(db, settings, moto_endpoint):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 3
    settings.BASTION_AUDIT_ANCHOR_URL = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/x?endpoint_url={moto_endpoint}"
    chain_id = make_chain(3)
    try:
        run = committed(lambda: anchor_pending(sleep=lambda _: None))
        assert run.failed and run.failed[0][:2] == (chain_id, 3) and "NoSuchBucket" in run.failed[0][2]
        assert "testing" not in run.failed[0][2]  # no credentials in what is logged
        report = verify_chain(chain_id)
        assert not report.ok and "cannot read the anchor store" in report.message
    finally:
        forget(chain_id)


def test_a_bucket_without_object_lock_is_refused_as_an_anchor(db, settings, moto_endpoint):
    """Anchoring to a bucket nobody locked would promise what it cannot keep: the write fails, loudly."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket = f"unlocked-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 3
    settings.BASTION_AUDIT_ANCHOR_URL = f"s3://{bucket}/audit?endpoint_url={moto_endpoint}"
    chain_id = make_chain(3)
    try:
        run = committed(lambda: anchor_pending(sleep=lambda _: None))
        assert run.failed and "InvalidRequest" in run.failed[0][2]
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    finally:
        forget(chain_id)
