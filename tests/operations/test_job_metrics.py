"""Job runs are counted by task and outcome from huey's own signals, failures included."""

from __future__ import annotations

from huey.contrib.djhuey import HUEY

from bastion.operations.metrics import JOB_RUNS, JOB_SECONDS


@HUEY.task()
def metrics_test_fails():
    raise ValueError("on purpose")


@HUEY.task()
def metrics_test_succeeds():
    return 1


def _count(task: str, outcome: str) -> float:
    return JOB_RUNS.labels(task, outcome)._value.get()


def test_runs_and_failures_by_task(db):
    name_ok, name_bad = metrics_test_succeeds.s().name, metrics_test_fails.s().name
    before_ok, before_bad = _count(name_ok, "complete"), _count(name_bad, "error")
    HUEY.execute(metrics_test_succeeds.s())
    try:
        HUEY.execute(metrics_test_fails.s())
    except ValueError:
        pass  # huey may re-raise outside the consumer; the signal was sent either way
    assert _count(name_ok, "complete") - before_ok == 1
    assert _count(name_bad, "error") - before_bad == 1
    assert _count(name_bad, "complete") == 0
    durations = {s.labels.get("task"): s.value for s in JOB_SECONDS.collect()[0].samples if s.name.endswith("_count")}
    assert durations[name_ok] >= 1
