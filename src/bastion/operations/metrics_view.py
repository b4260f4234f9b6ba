"""``GET /metrics``: the Prometheus exposition, for a scraper holding ``BASTION_METRICS_TOKEN`` (a
bearer token, compared in constant time) or connecting from ``BASTION_METRICS_ALLOWED_NETWORKS``.

The client's address is the one ``bastion.hardening.proxies`` decided (behind a trusted proxy, the
forwarded client, never the proxy itself, so a public proxy in front does not open the metrics to
everyone). Anyone else gets 401 with the API's error body. Besides the counters every process
wrote, each scrape runs the probes (database, cache), reads the job queue's depth and, when
serving TLS, the certificate's expiry.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from bastion.audit.context import client_address
from bastion.operations import multiprocess, probes
from bastion.tenancy.access import public

# Set by `bastion serve --certfile` for its workers: the certificate they serve.
SERVED_CERTIFICATE = "_BASTION_SERVED_CERTFILE"


def _allowed(request) -> bool:
    token = settings.BASTION_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header[:7].lower() == "bearer " and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_address(request) or "")
    except ValueError:
        return False
    return any(address in network for network in settings.BASTION_METRICS_ALLOWED_NETWORKS)


class ScrapeTimeCollector:
    """What is measured when Prometheus asks rather than counted as it happens."""

    def collect(self):
        up = GaugeMetricFamily("bastion_probe_up", "1 when the component answered its probe", labels=["component"])
        seconds = GaugeMetricFamily("bastion_probe_duration_seconds", "Time the component's probe took",
                                    labels=["component"])
        for result in (probes.probe_database(), probes.probe_cache()):
            up.add_metric([result.component], 1.0 if result.ok else 0.0)
            seconds.add_metric([result.component], result.seconds)
        yield up
        yield seconds
        depth = GaugeMetricFamily("bastion_job_queue_depth", "Jobs waiting in the queue")
        try:
            from huey.contrib.djhuey import HUEY

            depth.add_metric([], float(HUEY.pending_count()))
        except Exception:  # a queue that cannot be read is reported by its absence, not by a failed scrape
            pass
        else:
            yield depth
        yield GaugeMetricFamily("bastion_crypto_key_max_age_seconds", "The key-age policy (BASTION_KEY_MAX_AGE_DAYS)",
                                value=settings.BASTION_KEY_MAX_AGE_DAYS * 86400.0)
        expiry = _certificate_expiry()
        if expiry is not None:
            yield GaugeMetricFamily("bastion_tls_certificate_expiry_timestamp_seconds",
                                    "When the served TLS certificate expires (notAfter, Unix time)", value=expiry)


def _certificate_expiry() -> float | None:
    path = os.environ.get(SERVED_CERTIFICATE)
    if not path:
        return None
    from cryptography import x509

    try:
        with open(path, "rb") as handle:
            certificate = x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError):
        return None
    return certificate.not_valid_after_utc.timestamp()


def exposition() -> bytes:
    if multiprocess.directory() is not None:
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    measured = CollectorRegistry()
    measured.register(ScrapeTimeCollector())
    return generate_latest(counted) + generate_latest(measured)


@public  # to the tenancy layer: no organisation is involved; the token or network is checked here
@transaction.non_atomic_requests
def metrics(request):
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"error": {"code": "method_not_allowed", "fields": {},
                                           "message": "The metrics are read with GET."}}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    if not _allowed(request):
        response = JsonResponse({"error": {"code": "unauthenticated", "fields": {},
                                           "message": "The metrics need the bearer token (or an allowed network)."}},
                                status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
