"""Request latency with metrics and JSON logging on vs off, in the same run: the authenticated record
list (50 rows) of bench/record_list.py, through every layer.

    uv run python bench/metrics_overhead.py [--requests N]                          # SQLite
    eval "$(scripts/postgres-setup)" && uv run python bench/metrics_overhead.py     # PostgreSQL, app role

"On" is production's set-up: prometheus-client in multiprocess mode (values in mmap'd files, as
every gunicorn worker writes them), the request counter and histogram, and one JSON log line per
request written to a file. "Off" is the same stack without the observing middleware and logs.
Requests alternate between the two in blocks of ten (the order switching each time); the verdict is
the median over pairs of neighbouring blocks of their medians' ratio, so a busy machine's drift is
shared. The observer's own work is also timed alone. Exits 1 when the overhead is above 5 %.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

# Before anything imports prometheus_client: multiprocess mode, as `bastion serve` runs it.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bastion-bench-metrics-")
os.environ["BASTION_LOG_FORMAT"] = "json"


from _setup import acme_with_records, setup_database  # noqa: E402

LIMIT = 1.05


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    setup_database()

    import logging

    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings

    from bastion.operations import metrics

    log_file = open(os.path.join(os.environ["BASTION_DATA_DIR"], "requests.log"), "w")  # noqa: SIM115
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(log_file)

    user, organisation, project = acme_with_records()
    url = f"/api/v1/orgs/acme/projects/{project.id}/emissions?page_size=50"
    unlimited = {"API_READ_IDENTITY": "1000000/m", "API_READ_ORGANISATION": "1000000/m"}
    observed = "bastion.operations.middleware.ObservedRequestMiddleware"
    assert observed in settings.MIDDLEWARE  # (the trusted-proxies middleware now comes before it)
    unobserved = [name for name in settings.MIDDLEWARE if name != observed]
    with override_settings(BASTION_RATE_LIMITS=unlimited):
        on = Client()
        on.force_login(user)
        assert on.get(url).status_code == 200  # loads the middleware chain with the observer
    with override_settings(BASTION_RATE_LIMITS=unlimited, MIDDLEWARE=unobserved):
        off = Client()
        off.force_login(user)
        assert off.get(url).status_code == 200  # ... and without it (a client keeps the chain it loaded)
    counted = lambda: metrics.REQUESTS.labels("/api/v1/orgs/<org>/projects/<project_id>/emissions", "GET",  # noqa: E731
                                              "200")._value.get()

    with override_settings(BASTION_RATE_LIMITS=unlimited):
        def timed(client, count: int = 10) -> list[float]:
            samples = []
            for _ in range(count):
                start = time.perf_counter()
                response = client.get(url)
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200
            return samples

        timed(on, 50), timed(off, 50)  # warm-up
        before = counted()
        with_metrics, without = [], []
        paired = []  # each block "on" against the block "off" next to it: a busy machine's drift is shared
        for block in range(max(1, args.requests // 10)):
            if block % 2:
                b_off = timed(off)
                b_on = timed(on)
            else:
                b_on = timed(on)
                b_off = timed(off)
            with_metrics += b_on
            without += b_off
            paired.append(statistics.median(b_on) / statistics.median(b_off))
        assert counted() - before == len(with_metrics), "the observed client was not counted"
    log_file.flush()
    logged = sum(1 for line in open(log_file.name) if '"event": "request"' in line)
    assert logged >= len(with_metrics), "the observed client's requests were not logged"

    # The observer's own work, timed alone (steadier than a difference of two noisy medians).
    from types import SimpleNamespace

    from _setup import per_call
    from bastion.operations.middleware import ObservedRequestMiddleware

    answered = SimpleNamespace(status_code=200)
    observer = ObservedRequestMiddleware(lambda request: answered)
    request = SimpleNamespace(method="GET", audit_request_id="0" * 32, resolver_match=SimpleNamespace(
        route="api/v1/orgs/<org>/projects/<project_id>/emissions", view_name="emissions"), user=user,
        access=SimpleNamespace(organisation=organisation))
    own = per_call(lambda: observer(request), repeat=2000)

    a, b = statistics.median(with_metrics) * 1000, statistics.median(without) * 1000
    ratio = statistics.median(paired)
    print(f"database: {connection.vendor}; {len(with_metrics)} requests each, 50 rows per page")
    print(f"metrics + JSON logs on:  median {a:.3f} ms  p95 {sorted(with_metrics)[int(len(with_metrics) * .95)] * 1000:.3f} ms")
    print(f"metrics + JSON logs off: median {b:.3f} ms  p95 {sorted(without)[int(len(without) * .95)] * 1000:.3f} ms")
    print(f"the observer's own work: {own * 1e6:.1f} µs a request ({own * 1000 / b * 100:.2f} % of the median)")
    print(f"ratio of the medians (on / off): {a / b:.3f}")
    print(f"ratio (on / off), median of {len(paired)} paired blocks: {ratio:.3f} (limit {LIMIT:.2f})")
    sys.exit(0 if ratio <= LIMIT else 1)


if __name__ == "__main__":
    main()
