"""Audit log costs, each against a baseline in the same run.

    eval "$(scripts/postgres-setup)" && uv run python bench/audit.py      # PostgreSQL (the issue's target)
    uv run python bench/audit.py                                          # SQLite

1. Writes per second: one emissions record per transaction, with its audit event vs without,
   (a) 8 threads writing into one organisation (they queue on its chain head), and
   (b) 8 threads each writing into its own organisation (chains do not wait for each other).
2. Anchoring (issue 13): audited writes (8 organisations) with checkpoints anchored in the witness
   log (``BASTION_AUDIT_ANCHOR_URL``) after each signing transaction vs not anchored, a checkpoint every
   ``--every`` events; best of two alternating runs each. Target: ratio >= 0.95.
3. Verification: ``verify_chain`` events per second vs raw ``hashlib.sha256`` chaining over the
   same canonical bytes (the floor: what hashing alone costs); and the canonicaliser alone,
   ``audit.jcs`` vs the ``rfc8785`` reference over the same event bodies.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import threading
import time
from decimal import Decimal

from _setup import setup_database

THREADS = 8


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=250, help="writes per thread")
    parser.add_argument("--chain", type=int, default=20000, help="events in the chain to verify")
    parser.add_argument("--every", type=int, default=100, help="a checkpoint every N events, for the anchoring run")
    args = parser.parse_args()
    setup_database()

    from django.contrib.auth import get_user_model
    from django.db import connection

    from bastion.audit import chain as audit
    from bastion.audit.format import GENESIS_HASH, canonical
    from bastion.audit.models import AuditEvent
    from bastion.audit.verification import verify_chain
    from bastion.records.models import EmissionRecord
    from bastion.tenancy import actions, context

    owner = get_user_model().objects.create_user(email="bench@example.com", password="x" * 20)
    projects = []
    for i in range(THREADS):
        organisation = actions.create_organisation(name=f"Org {i}", slug=f"org-{i}", owner=owner)
        with context.tenant_context(organisation.id):
            workspace = actions.create_workspace(organisation, name="W")
            projects.append(actions.create_project(workspace, name="P"))

    def write(project, audited: bool, n: int) -> None:
        try:
            for i in range(n):
                with context.tenant_context(project.organisation_id):
                    record = EmissionRecord.objects.create(
                        organisation_id=project.organisation_id, project=project, scope=1,
                        category="stationary_combustion", activity=f"gas {i}", quantity=Decimal(i), unit="kWh",
                        period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 1, 31))
                    if audited:
                        audit.record("emission_record.created", organisation_id=project.organisation_id,
                                     resource_type="emission_record", resource_id=record.id,
                                     changes={"activity": [None, record.activity]})
        finally:
            connection.close()

    def rate(targets, audited: bool) -> float:
        threads = [threading.Thread(target=write, args=(p, audited, args.writes)) for p in targets]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return THREADS * args.writes / (time.perf_counter() - start)

    print(f"database: {connection.vendor}; {THREADS} threads x {args.writes} writes")
    for label, targets in (("one organisation", [projects[0]] * THREADS), ("8 organisations", projects)):
        plain = rate(targets, audited=False)
        with_audit = rate(targets, audited=True)
        print(f"{label:18} unaudited {plain:8.0f} writes/s   audited {with_audit:8.0f} writes/s"
              f"   ratio {with_audit / plain:.2f}")

    # Anchoring on vs off, same run, alternating.
    from django.conf import settings

    from bastion.audit import checkpoints

    settings.BASTION_AUDIT_CHECKPOINT_EVERY = args.every
    anchor_after_commit = checkpoints._anchor_after_commit
    runs: dict[bool, list[float]] = {False: [], True: []}
    for anchored in (False, True, False, True):
        checkpoints._anchor_after_commit = anchor_after_commit if anchored else (lambda chain: None)
        runs[anchored].append(rate(projects, audited=True))
    checkpoints._anchor_after_commit = anchor_after_commit
    off, on = max(runs[False]), max(runs[True])
    print(f"anchoring          off {off:8.0f} writes/s   on {on:8.0f} writes/s   ratio {on / off:.2f}"
          f"   (a checkpoint every {args.every} events, {settings.BASTION_AUDIT_ANCHOR_URL})")
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 1000

    # Verification of one long chain.
    organisation_id = projects[1].organisation_id
    chain_id = str(organisation_id)
    have = 0
    with context.tenant_context(organisation_id):
        have = AuditEvent.objects.filter(chain_id=chain_id).count()
    for start in range(have, args.chain, 1000):
        with context.tenant_context(organisation_id):
            for i in range(start, min(start + 1000, args.chain)):
                audit.record("emission_record.updated", organisation_id=organisation_id, resource_type="emission_record",
                             resource_id=i, changes={"quantity": [str(i), str(i + 1)]})
    with context.tenant_context(organisation_id):
        events = list(AuditEvent.objects.filter(chain_id=chain_id).order_by("seq"))
        bodies = [canonical(audit.body_of(e)) for e in events]
    started = time.perf_counter()
    report = verify_chain(chain_id)
    verify_seconds = time.perf_counter() - started
    assert report.ok, report.message
    started = time.perf_counter()
    previous = GENESIS_HASH
    for body in bodies:
        previous = hashlib.sha256(previous + body).digest()
    raw_seconds = time.perf_counter() - started
    size = sum(map(len, bodies)) / len(bodies)
    print(f"verify_chain       {report.events / verify_seconds:10.0f} events/s ({report.events} events, "
          f"~{size:.0f} bytes each, {report.checkpoints} checkpoints)")
    print(f"raw sha256 chain   {len(bodies) / raw_seconds:10.0f} events/s   ratio {raw_seconds / verify_seconds:.3f}")

    # The canonicaliser alone: audit.jcs (C JSON encoder inside its proven domain) vs the rfc8785 reference.
    import rfc8785

    from bastion.audit import jcs

    documents = [audit.body_of(e) for e in events]
    timings = {}
    for name, dumps in (("rfc8785", rfc8785.dumps), ("jcs", jcs.dumps)):
        started = time.perf_counter()
        for document in documents:
            dumps(document)
        timings[name] = time.perf_counter() - started
    print(f"canonical JSON     rfc8785 {len(documents) / timings['rfc8785']:10.0f} bodies/s   jcs "
          f"{len(documents) / timings['jcs']:10.0f} bodies/s   speed-up {timings['rfc8785'] / timings['jcs']:.1f}x")


if __name__ == "__main__":
    main()
