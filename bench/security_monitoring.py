"""Security monitoring's costs, each against a baseline in the same run.

    eval "$(scripts/postgres-setup)" && uv run python bench/security_monitoring.py   # PostgreSQL
    uv run python bench/security_monitoring.py                                       # SQLite

1. Audit appends are not slowed: audited writes per second (4 threads, 4 organisations) while a
   scanner thread runs ``monitor.scan()`` every second (sixty times the job's cadence; in the same
   process, so it also takes the writers' interpreter lock while it runs) vs with no scanner. Target: ratio >= 0.95 on
   PostgreSQL (SQLite has one writer for the whole database, so there the scanner's cursor writes queue).
2. Scan throughput: events per second read by ``monitor.scan()`` with every rule vs the same reading
   with no rule (the floor: fetching the events and moving the cursor). One event in ten is a failed
   sign-in, the rest ordinary record changes.
"""

from __future__ import annotations

import argparse
import threading
import time

from _setup import setup_database

THREADS = 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=300, help="audited writes per thread")
    parser.add_argument("--events", type=int, default=3000, help="events per organisation to scan")
    args = parser.parse_args()
    setup_database()

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import RequestFactory

    from bastion.audit import chain as audit
    from bastion.audit import context as audit_context
    from bastion.operations.models import MonitorCursor
    from bastion.operations.security_monitoring import monitor
    from bastion.tenancy import actions, context

    owner = get_user_model().objects.create_user(email="bench@example.com", password="x" * 20)
    organisations = [actions.create_organisation(name=f"Org {i}", slug=f"org-{i}", owner=owner) for i in range(THREADS)]

    def append(organisation_id, n: int, offset: int = 0) -> None:
        request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="bench")
        token = audit_context.bind_request(request)
        try:
            for i in range(n):
                with context.tenant_context(organisation_id):
                    if (i + offset) % 10 == 0:
                        audit.record("auth.login.failed", organisation_id=organisation_id, resource_type="user",
                                     resource_id="1", changes={"username": f"user{i % 7}@example.com"})
                    else:
                        audit.record("workspace.updated", organisation_id=organisation_id, resource_type="workspace",
                                     resource_id=str(i), changes={"name": [f"w{i}", f"w{i + 1}"]})
        finally:
            audit_context.unbind_request(token)
            connection.close()

    def appends_per_second(with_scanner: bool) -> float:
        stop = threading.Event()

        def scanner():
            try:
                while not stop.is_set():
                    monitor.scan()
                    stop.wait(1.0)  # each second: sixty times the job's cadence
            finally:
                connection.close()

        background = threading.Thread(target=scanner) if with_scanner else None
        if background:
            background.start()
        threads = [threading.Thread(target=append, args=(o.id, args.writes)) for o in organisations]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        stop.set()
        if background:
            background.join()
        return THREADS * args.writes / elapsed

    print(f"database: {connection.vendor}")
    monitor.scan()
    if connection.vendor != "postgresql":
        print("1. skipped: SQLite has one writer for the whole database (run on PostgreSQL)")
    runs = {False: [], True: []}
    for _ in range(2 if connection.vendor == "postgresql" else 0):  # alternate, best of two each
        for with_scanner in (False, True):
            runs[with_scanner].append(appends_per_second(with_scanner))
    if runs[False]:
        without, with_ = max(runs[False]), max(runs[True])
        print(f"1. audited writes/s, {THREADS} threads: no scanner {without:,.0f}; scanner each second {with_:,.0f}; "
              f"ratio {with_ / without:.3f}")

    monitor.scan()
    for organisation in organisations:
        append(organisation.id, args.events)

    def timed_scan() -> tuple[int, float]:
        with context.platform_scope():
            MonitorCursor.objects.all().update(seq=0)  # the same events each time
        start = time.perf_counter()
        result = monitor.scan()
        return result.events, time.perf_counter() - start

    events, with_rules = timed_scan()
    saved = monitor.RULES
    monitor.RULES = ()
    try:
        _, floor = timed_scan()
    finally:
        monitor.RULES = saved
    print(f"2. scan of {events:,} events: every rule {events / with_rules:,.0f} events/s; "
          f"no rule (floor) {events / floor:,.0f} events/s; rules take {with_rules / floor:.1f}x the floor's time")


if __name__ == "__main__":
    main()
