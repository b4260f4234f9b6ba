"""The status page's summary (uptime over 24 h / 7 d / 30 d / 90 d and the 90-day bar for every
component) computed from 90 days of history, against a baseline in the same run.

    uv run python bench/status_summary.py                                          # SQLite
    eval "$(scripts/postgres-setup)" && uv run python bench/status_summary.py      # PostgreSQL

Baseline: every component stable for 90 days (one interval each). Measured: every component
flapping between operational and degraded every ``--every`` minutes for 90 days (with the default
60, 2,160 intervals per component). History is stored as state intervals, so the cost follows the
number of state changes, not the number of minutes probed (129,600 per component in 90 days).
"""

from __future__ import annotations

import argparse
import datetime

from _setup import per_call, setup_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=60, help="minutes between state changes in the measured run")
    args = parser.parse_args()
    setup_database()

    from django.utils import timezone

    from bastion.operations import history, probes, summary
    from bastion.operations.models import DEGRADED, OPERATIONAL, ComponentInterval

    now = timezone.now()
    start = now - datetime.timedelta(days=90)
    keys = [c.key for c in probes.components()]

    def compute():
        summary._compute("http://status.example", now)

    ComponentInterval.objects.bulk_create(
        ComponentInterval(component=key, state=OPERATIONAL, started_at=start, checked_at=now) for key in keys)
    stable = per_call(compute, repeat=5)

    ComponentInterval.objects.all().delete()
    step = datetime.timedelta(minutes=args.every)
    rows, moment, flip = [], start, False
    while moment < now:
        for key in keys:
            rows.append(ComponentInterval(component=key, state=DEGRADED if flip else OPERATIONAL,
                                          started_at=moment, checked_at=min(moment + step, now)))
        moment, flip = moment + step, not flip
    ComponentInterval.objects.bulk_create(rows, batch_size=5000)
    flapping = per_call(compute, repeat=1)
    data = summary._compute("http://status.example", now)
    assert data["components"][0]["days"][-2]["status"] == DEGRADED

    print(f"components: {len(keys)}, intervals in the measured run: {len(rows)} "
          f"({len(rows) // len(keys)} per component; per-minute rows would be {90 * 24 * 60} per component)")
    print(f"summary, stable history (baseline): {stable * 1000:8.1f} ms")
    print(f"summary, a state change every {args.every} min: {flapping * 1000:8.1f} ms   "
          f"ratio {flapping / stable:.1f}x the baseline")
    print(f"the public page recomputes it at most every {summary.CACHE_SECONDS} s (cached)")
    history.prune(clock=lambda: now + datetime.timedelta(days=365))


if __name__ == "__main__":
    main()
