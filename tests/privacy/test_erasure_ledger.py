"""The erasure ledger itself (``privacy.ledger``): written ahead of each erasure and organisation
deletion, outside the database, hash-chained and signed; replayed once and only once; refused when
truncated or altered; on S3 under Object Lock as well as in the witness directory."""

from __future__ import annotations

import datetime
import json
import uuid

import boto3
import pytest
from django.utils import timezone

from bastion.backups.drills import erasures_stay_erased
from bastion.privacy import erasure, ledger, organisation_deletion
from bastion.privacy.models import LedgerApplied
from bastion.tenancy import context
from bastion.tenancy.models import Organisation


def _reload(user):
    user.refresh_from_db()
    return user


def test_an_entry_written_ahead_of_a_crash_is_replayed_once_and_spares_the_outsider(world):
    person, outsider = world.acme.users["viewer"], world.globex.users["viewer"]
    # The process died after writing the entry ahead and before the erasure committed.
    entry = ledger.append(ledger.PERSON_ERASED, person.pk)
    assert not erasure.is_erased(_reload(person)) and not LedgerApplied.objects.exists()
    first = ledger.replay()
    assert first.ok and first.replayed == [f"person-erased {person.pk} (entry {entry.seq})"]
    assert erasure.is_erased(_reload(person)) and not _reload(person).is_active
    assert LedgerApplied.objects.get(seq=entry.seq).entry_hash == entry.hash
    again = ledger.replay()
    assert again.ok and again.replayed == [] and again.entries == 1
    assert not erasure.is_erased(_reload(outsider)) and _reload(outsider).is_active


def test_an_erasure_writes_its_entry_without_personal_data_and_applies_it(world, audit_witness):
    person = world.acme.users["viewer"]
    email = person.email
    erasure.erase_person(person.pk)
    [entry] = ledger.read()
    assert (entry.kind, entry.subject, entry.seq) == (ledger.PERSON_ERASED, str(person.pk), 1)
    text = (audit_witness / ledger.FILE_NAME).read_text()
    assert email not in text and "acme" not in text
    assert ledger.pending(ledger.read()) == []
    assert erasure.erase_person(person.pk).already_erased and len(ledger.read()) == 1  # nothing new to record


def test_a_truncated_or_altered_ledger_is_refused(world, audit_witness):
    erasure.erase_person(world.acme.users["viewer"].pk)
    erasure.erase_person(world.acme.users["editor"].pk)
    path = audit_witness / ledger.FILE_NAME
    original = path.read_text()
    first, second = original.splitlines()
    record = json.loads(first)
    record["body"]["subject"] = str(world.globex.users["viewer"].pk)
    path.write_text(json.dumps(record) + "\n" + second + "\n")
    altered = ledger.replay()
    assert not altered.ok and "entry 1 was altered" in altered.error
    path.write_text(first + "\n")
    truncated = ledger.replay()
    assert not truncated.ok and "applied erasure ledger entry 2 but the ledger holds 1" in truncated.error
    path.write_text(original)
    assert ledger.replay().ok


def test_an_organisation_deletion_is_recorded_and_a_restored_organisation_deleted_again(world):
    past = timezone.now() - datetime.timedelta(days=60)
    with context.tenant_context(world.globex.organisation.id):
        organisation_deletion.schedule(world.globex.organisation, requested_by_label="owner", base_url="https://b.example",
                                       now=past)
    assert organisation_deletion.delete_due().deleted == ["globex"]
    [entry] = ledger.read()
    assert (entry.kind, entry.subject) == (ledger.ORGANISATION_DELETED, str(world.globex.organisation.id))
    # A copy that still holds an organisation deleted since: the ledger names acme's id, not applied here.
    LedgerApplied.objects.all().delete()
    later = ledger.append(ledger.ORGANISATION_DELETED, world.acme.organisation.id)
    result = ledger.replay()
    assert result.ok and result.replayed == [f"organisation-deleted {world.globex.organisation.id} (entry 1)",
                                             f"organisation-deleted {world.acme.organisation.id} (entry {later.seq})"]
    with context.platform_scope():
        assert not Organisation.objects.filter(id__in=[world.acme.organisation.id, world.globex.organisation.id]).exists()
    assert ledger.came_back() == []


def test_the_drill_fails_when_an_erasure_is_not_carried_out_again(world):
    owner = world.acme.users["owner"]  # in this copy, acme's only owner: replaying would leave it ownerless
    ledger.append(ledger.PERSON_ERASED, owner.pk)
    assert ledger.came_back() == [f"person {owner.pk}"]
    check = erasures_stay_erased(lambda message: None)
    assert not check.ok and check.name == "erasures" and "sole owner of acme" in check.detail
    assert not erasure.is_erased(_reload(owner))


@pytest.fixture
def locked_bucket(moto_endpoint, settings):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket = f"ledger-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    settings.BASTION_AUDIT_ANCHOR_URL = f"s3://{bucket}/anchors?endpoint_url={moto_endpoint}&region=us-east-1"
    return s3, bucket


def test_on_s3_each_entry_is_a_locked_object_and_an_overwrite_changes_nothing(world, locked_bucket):
    s3, bucket = locked_bucket
    person = world.acme.users["viewer"]
    erasure.erase_person(person.pk)
    key = f"anchors/{ledger.S3_FOLDER}/{1:020d}.json"
    assert s3.head_object(Bucket=bucket, Key=key)["ObjectLockMode"] == "COMPLIANCE"
    forged = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    forged["body"]["subject"] = str(world.globex.users["viewer"].pk)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(forged).encode())  # only adds a later version
    [entry] = ledger.read()
    assert entry.subject == str(person.pk)
    erasure.erase_person(world.acme.users["editor"].pk)
    assert [e.seq for e in ledger.read()] == [1, 2] and ledger.replay().ok
