"""Served over TLS, /metrics exports the certificate's notAfter (the expiry alert reads it)."""

from __future__ import annotations

import ssl
import urllib.request

from cryptography import x509

from tests.live_server import tls_server
from tests.operations.scrape import TOKEN, value
from tests.peers.certificates import make_ca_and_leaf


def test_the_served_certificates_expiry_is_a_gauge(tmp_path):
    ca, cert, key = make_ca_and_leaf(tmp_path)
    not_after = x509.load_pem_x509_certificate(open(cert, "rb").read()).not_valid_after_utc.timestamp()
    with tls_server(cert, key, ca, extra_env={"BASTION_METRICS_TOKEN": TOKEN}) as server:
        context = ssl.create_default_context(cafile=str(ca))
        request = urllib.request.Request(server.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            text = response.read().decode()
    assert value(text, "bastion_tls_certificate_expiry_timestamp_seconds") == not_after
