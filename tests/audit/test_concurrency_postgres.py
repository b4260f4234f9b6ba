"""Concurrent appends on PostgreSQL: one chain serialises (no gap, no fork); chains do not block each other."""

from __future__ import annotations

import contextlib
import threading
import uuid

import pytest
from django.db import connection, transaction

from bastion.audit import chain as audit
from bastion.audit.models import AuditEvent, ChainHead
from bastion.audit.verification import verify_chain
from bastion.db.rls import set_setting
from tests.audit.db_tampering import forget, run_threads

pytestmark = pytest.mark.postgres_only

THREADS = 8
APPENDS_PER_THREAD = 400


def test_thousands_of_concurrent_appends_make_one_valid_chain(db, settings):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 500
    chain_id = str(uuid.uuid4())

    def writer(index: int):
        for i in range(APPENDS_PER_THREAD):
            with transaction.atomic():
                set_setting("bastion.org_id", chain_id)
                audit.record("audit.exported", organisation_id=chain_id, resource_type="writer",
                             resource_id=f"{index}-{i}")

    try:
        assert run_threads(writer, THREADS) == []
        total = THREADS * APPENDS_PER_THREAD
        with transaction.atomic():
            set_setting("bastion.org_id", chain_id)
            seqs = list(AuditEvent.objects.filter(chain_id=chain_id).order_by("seq").values_list("seq", flat=True))
            prev_hashes = list(AuditEvent.objects.filter(chain_id=chain_id).values_list("prev_hash", flat=True))
            head = ChainHead.objects.get(chain_id=chain_id)
        assert seqs == list(range(1, total + 1)), "a gap or a duplicate"
        assert len(set(prev_hashes)) == total, "a fork: two events claim the same predecessor"
        assert head.seq == total
        report = verify_chain(chain_id)
        assert report.ok, report.message
        assert report.checkpoints == total // 500
    finally:
        forget(chain_id)


@contextlib.contextmanager
def _chain_held(chain_id: str):
    """A thread appends to ``chain_id`` and keeps its transaction (and the head's lock) open
    until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold(_):
        with transaction.atomic():
            set_setting("bastion.org_id", chain_id)
            audit.record("audit.exported", organisation_id=chain_id, resource_type="holder")
            locked.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=lambda: run_threads(hold, 1))
    holder.start()
    try:
        assert locked.wait(timeout=30)
        yield
    finally:
        release.set()
        holder.join()
        forget(chain_id)


def _append_with_lock_timeout(chain_id: str, timeout: str):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{timeout}'")
        set_setting("bastion.org_id", chain_id)
        return audit.record("audit.exported", organisation_id=chain_id, resource_type="contender")


def test_appends_in_different_organisations_do_not_wait_for_each_other(db):
    held, other = str(uuid.uuid4()), str(uuid.uuid4())
    outcome = {}
    with _chain_held(held):
        errors = run_threads(lambda _: outcome.update(event=_append_with_lock_timeout(other, "2s")), 1)
    forget(other)
    assert errors == []
    assert outcome["event"].seq == 1


def test_a_second_append_to_the_same_chain_waits_for_the_first(db):
    chain_id = str(uuid.uuid4())
    with _chain_held(chain_id):
        errors = run_threads(lambda _: _append_with_lock_timeout(chain_id, "500ms"), 1)
    assert len(errors) == 1 and "lock timeout" in str(errors[0])
