"""The platform's Prometheus metrics: what is counted, and the receivers that count it.

Names follow Prometheus' conventions (``_total`` counters, ``_seconds`` in base units). Labels are
bounded by the code, never by the data: routes from the URL conf, methods, status codes, job
names, audit action names, rate-limit rules. No organisation, person, address or path is ever a
label; per-chain and per-organisation facts are folded into counts and oldest timestamps.

Every process writes its values to ``PROMETHEUS_MULTIPROC_DIR`` (``bastion.operations.multiprocess``)
and ``/metrics`` adds them up, so each gunicorn worker and each job worker is counted once. Metrics
defined in lower apps (``bastion_rate_limited_total`` in hardening, the audit alerts' counters and
gauges) are served the same way.
"""

from __future__ import annotations

import time

from django.db import transaction
from prometheus_client import Counter, Gauge, Histogram

from bastion.audit import alerts  # noqa: F401  (its counters and gauges are served with these)

REQUESTS = Counter("bastion_http_requests_total", "HTTP requests answered, by route, method and status",
                   ["route", "method", "status"])
REQUEST_SECONDS = Histogram(
    "bastion_http_request_duration_seconds", "Time to answer an HTTP request, by route, method and status",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SIGN_INS = Counter("bastion_signins_total", "Sign-in attempts by result (succeeded, failed, refused while locked)",
                   ["result"])
LOCKOUTS = Counter("bastion_signin_lockouts_total", "Lockouts started by failed sign-ins, by kind (account, ip)",
                   ["kind"])
MFA_FAILURES = Counter("bastion_mfa_failures_total", "Second-factor checks that failed")
AUDIT_APPENDS = Counter("bastion_audit_events_appended_total", "Audit events committed, by action", ["action"])
JOB_RUNS = Counter("bastion_job_runs_total", "Job runs by task and outcome (complete, error)", ["task", "outcome"])
JOB_SECONDS = Histogram("bastion_job_duration_seconds", "Time a job ran, by task", ["task"],
                        buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0))
EMAIL_FAILURES = Counter("bastion_email_send_failures_total", "Emails the mail backend failed to send")

# Set by the security-gauges job (bastion.operations.security_gauges); "mostrecent" keeps the
# latest value whichever worker process computed it.
AUDIT_CHAINS = Gauge("bastion_audit_chains", "Audit chains known (the platform's and one per organisation)",
                     multiprocess_mode="mostrecent")
AUDIT_CHAINS_FAILED = Gauge("bastion_audit_chains_failed_verification",
                            "Chains whose latest verification failed", multiprocess_mode="mostrecent")
AUDIT_CHAINS_UNVERIFIED = Gauge("bastion_audit_chains_never_verified", "Chains with no passed verification yet",
                                multiprocess_mode="mostrecent")
AUDIT_OLDEST_GOOD = Gauge(
    "bastion_audit_verification_oldest_success_timestamp_seconds",
    "Over all verified chains, the oldest of each chain's last passed verification (Unix time)",
    multiprocess_mode="mostrecent")
DATA_KEY_OLDEST = Gauge(
    "bastion_crypto_data_key_oldest_created_timestamp_seconds",
    "Over all organisations, when the oldest data key still in use was made (Unix time)",
    multiprocess_mode="mostrecent")
SECURITY_GAUGES_UPDATED = Gauge("bastion_security_gauges_updated_timestamp_seconds",
                                "When the audit and key gauges were last computed (Unix time)",
                                multiprocess_mode="mostrecent")


def route_of(request) -> str:
    """The URL conf's pattern that answered (``api/v1/orgs/<org>/…``), never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + (match.route or match.view_name or "unnamed")


def observe_request(request, status: int, seconds: float) -> str:
    route = route_of(request)
    labels = (route, request.method if request.method in KNOWN_METHODS else "other", str(status))
    REQUESTS.labels(*labels).inc()
    REQUEST_SECONDS.labels(*labels).observe(seconds)
    return route


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# Receivers, connected by OperationsConfig.ready().

def on_login(sender, **kwargs) -> None:
    SIGN_INS.labels("succeeded").inc()


def on_login_failed(sender, **kwargs) -> None:
    SIGN_INS.labels("failed").inc()


def on_sign_in_refused(sender, **kwargs) -> None:
    SIGN_INS.labels("refused").inc()


def on_lockout(sender, locked, **kwargs) -> None:
    for kind in locked:
        LOCKOUTS.labels(kind if kind in ("account", "ip") else "other").inc()


def on_mfa_failed(sender, **kwargs) -> None:
    MFA_FAILURES.inc()


def on_audit_append(sender, action: str, **kwargs) -> None:
    transaction.on_commit(AUDIT_APPENDS.labels(action).inc)


_job_started: dict[str, float] = {}


def on_job_signal(signal: str, task, *args, **kwargs) -> None:
    """huey's signals (SIGNAL_EXECUTING, _COMPLETE, _ERROR) in the job worker."""
    if signal == "executing":
        _job_started[task.id] = time.monotonic()
        return
    JOB_RUNS.labels(task.name, signal).inc()
    started = _job_started.pop(task.id, None)
    if started is not None:
        JOB_SECONDS.labels(task.name).observe(time.monotonic() - started)


def preset_labels() -> None:
    """Series that should read 0 before the first event (alert rules on increase() need them)."""
    for result in ("succeeded", "failed", "refused"):
        SIGN_INS.labels(result)
    for kind in ("account", "ip"):
        LOCKOUTS.labels(kind)
    from bastion.hardening.rate_limits import REFUSED, RULES

    for rule in RULES:
        for key, _ in rule.limits:
            REFUSED.labels(rule=rule.name, key=key)
