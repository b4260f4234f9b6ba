"""Concurrent appends to the read-access log on PostgreSQL: one organisation's chain serialises (no
gap, no fork, even when the first appends race to create its head); organisations do not wait for
each other."""

from __future__ import annotations

import contextlib
import threading
import uuid

import pytest
from django.db import connection, transaction

from bastion.access_log import recording
from bastion.access_log.models import AccessBatch, AccessLogHead
from bastion.tenancy import context
from tests.access_log.db_tampering import committed_organisation, forget_organisation
from tests.audit.db_tampering import run_threads

pytestmark = pytest.mark.postgres_only

THREADS = 8
APPENDS_PER_THREAD = 150


@pytest.fixture
def organisations(db):
    made = [committed_organisation(), committed_organisation()]
    yield made
    for organisation_id in made:
        forget_organisation(organisation_id)


def _append(organisation_id: uuid.UUID, resource: str, lock_timeout: str | None = None) -> AccessBatch | None:
    with transaction.atomic():
        if lock_timeout:
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
        context.activate(organisation_id)
        return recording.record(organisation_id, "export", [("project", resource)])


def test_concurrent_appends_make_one_valid_chain_from_a_head_they_race_to_create(organisations):
    organisation_id = organisations[0]
    start = threading.Barrier(THREADS)

    def writer(index: int):
        start.wait(timeout=30)  # the first appends of every thread race to create the head
        for i in range(APPENDS_PER_THREAD):
            _append(organisation_id, f"{index}-{i}")

    assert run_threads(writer, THREADS) == []
    total = THREADS * APPENDS_PER_THREAD
    with context.tenant_context(organisation_id):
        batches = list(AccessBatch.objects.order_by("seq").values_list("seq", "prev_hash", "resources"))
        head = AccessLogHead.objects.get()
        assert recording.verify(organisation_id) is None
    assert [seq for seq, _, _ in batches] == list(range(1, total + 1)), "a gap or a duplicate"
    assert len({prev for _, prev, _ in batches}) == total, "a fork: two batches claim the same predecessor"
    assert sorted(r[0][1] for _, _, r in batches) == sorted(f"{t}-{i}" for t in range(THREADS)
                                                           for i in range(APPENDS_PER_THREAD))
    assert head.seq == total


@contextlib.contextmanager
def _log_held(organisation_id: uuid.UUID):
    """A thread appends and keeps its transaction (and the head's lock) open until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold(_):
        with transaction.atomic():
            context.activate(organisation_id)
            recording.record(organisation_id, "export", [("project", "holder")])
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


def test_a_second_append_to_the_same_log_waits_for_the_first(organisations):
    organisation_id = organisations[0]
    with _log_held(organisation_id):
        errors = run_threads(lambda _: _append(organisation_id, "contender", "500ms"), 1)
    assert len(errors) == 1 and "lock timeout" in str(errors[0])
    with context.tenant_context(organisation_id):
        assert list(AccessBatch.objects.values_list("seq", "resources")) == [(1, [["project", "holder"]])]


def test_appends_in_different_organisations_do_not_wait_for_each_other(organisations):
    held, other = organisations
    outcome = {}
    with _log_held(held):
        errors = run_threads(lambda _: outcome.update(batch=_append(other, "elsewhere", "2s")), 1)
    assert errors == []
    assert outcome["batch"].seq == 1
