"""Requests to customers' URLs reach only allowed addresses, and over HTTPS the certificate is still
checked against the URL's host name although the connection goes to the address that was vetted."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bastion.tenancy import outbound
from tests.peers.certificates import make_ca_and_leaf


class _Hook(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        _Hook.seen.append((self.headers["Host"], self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _https_server(tmp_path, hosts, addresses):
    ca, cert, key = make_ca_and_leaf(tmp_path, hosts=hosts, addresses=addresses)
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, ca


@pytest.fixture
def trusting(monkeypatch, settings):
    settings.BASTION_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]

    def trust(ca):
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    _Hook.seen = []
    return trust


def test_https_goes_to_the_vetted_address_and_checks_the_certificate_for_the_host(tmp_path, trusting):
    server, ca = _https_server(tmp_path, ("localhost",), ())
    trusting(ca)
    try:
        response = outbound.post(f"https://localhost:{server.server_port}/hook?x=1", b"{}",
                                 {"Content-Type": "application/json"}, timeout=5)
    finally:
        server.shutdown()
    assert response.status == 204
    assert _Hook.seen == [(f"localhost:{server.server_port}", b"{}")]


def test_a_certificate_for_another_name_is_refused(tmp_path, trusting):
    server, ca = _https_server(tmp_path, ("elsewhere.test",), ())
    trusting(ca)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            outbound.post(f"https://localhost:{server.server_port}/hook", b"{}", {}, timeout=5)
    finally:
        server.shutdown()
    assert _Hook.seen == []


@pytest.mark.parametrize("url", ["https://127.0.0.1/", "http://localhost/", "https://[::ffff:10.0.0.1]/",
                                 "https://100.64.0.1/", "https://224.0.0.1/", "https://no-such-host.invalid/"])
def test_nothing_but_public_addresses_without_an_operators_allowance(settings, url):
    settings.BASTION_OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(outbound.RefusedDestination):
        outbound.check_url(url)
    with pytest.raises(outbound.RefusedDestination):
        outbound.post(url, b"", {}, timeout=1)


def test_a_public_address_passes_the_check(settings):
    settings.BASTION_OUTBOUND_ALLOWED_NETWORKS = []
    outbound.check_url("https://93.184.215.14/hook")  # no connection is made by the check
