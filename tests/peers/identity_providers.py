"""Real identity providers for the SSO tests, each started on localhost and stopped by its PID:
npm's ``oidc-provider`` (OpenID Connect), npm's ``saml-idp`` (SAML 2.0), and dnslib's DNS server
(for domain verification). The npm packages are installed by ``scripts/test`` in tests/peers/node.
"""

from __future__ import annotations

import contextlib
import datetime
import html
import json
import re
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import requests

NODE_DIR = Path(__file__).resolve().parent / "node"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the peer exited:\n{log.read_text()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()}")


@contextlib.contextmanager
def _node(args: list[str], ready_url: str, log: Path) -> Iterator[None]:
    if not (NODE_DIR / "node_modules").is_dir():
        raise RuntimeError("tests/peers/node/node_modules is missing: run scripts/test (it runs npm ci there)")
    with open(log, "wb") as out:
        process = subprocess.Popen(["node", *args], cwd=NODE_DIR, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(ready_url, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def oidc_provider(clients: list[dict], tmp_path: Path) -> Iterator[str]:
    """Yields the issuer URL (``http://localhost:PORT``: oidc-provider builds its URLs from the Host)."""
    port = _free_port()
    issuer = f"http://localhost:{port}"
    with _node(["oidc-provider.mjs", str(port), json.dumps(clients)], f"{issuer}/.well-known/openid-configuration",
               tmp_path / "oidc-provider.log"):
        yield issuer


def make_certificate(tmp_path: Path, name: str = "idp") -> tuple[Path, Path]:
    """A self-signed RSA signing certificate and key for the IdP (as an IdP admin would make)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bastion test {name}")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@contextlib.contextmanager
def saml_idp(*, acs_url: str, audience: str, issuer: str, tmp_path: Path) -> Iterator[dict]:
    """Yields ``{"url", "sso_url", "issuer", "certificate"}`` of a running saml-idp."""
    port = _free_port()
    cert, key = make_certificate(tmp_path)
    url = f"http://localhost:{port}"
    args = ["node_modules/saml-idp/bin/run.js", "--host", "127.0.0.1", "--port", str(port), "--acsUrl", acs_url,
            "--audience", audience, "--issuer", issuer, "--cert", str(cert), "--key", str(key)]
    with _node(args, f"{url}/metadata", tmp_path / "saml-idp.log"):
        yield {"url": url, "sso_url": f"{url}/saml/sso", "issuer": issuer, "certificate": cert.read_text()}


@contextlib.contextmanager
def dns_server(txt_records: dict[str, list[str]]) -> Iterator[str]:
    """A real DNS server (UDP, 127.0.0.1) answering TXT queries from ``txt_records``; yields host:port.
    The dict may be changed while it runs (records published later)."""
    from dnslib import QTYPE, RR, TXT
    from dnslib.server import BaseResolver, DNSServer

    class Resolver(BaseResolver):
        def resolve(self, request, handler):
            reply = request.reply()
            name = str(request.q.qname).rstrip(".").lower()
            if request.q.qtype == QTYPE.TXT:
                for value in txt_records.get(name, []):
                    reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=1))
            return reply

    port = _free_port()
    server = DNSServer(Resolver(), port=port, address="127.0.0.1")
    server.start_thread()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()


# Driving an identity provider's pages as a browser would, with plain HTTP.

def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf"""\b{name}=(?:"([^"]*)"|'([^']*)')""", tag, re.I)
    return html.unescape(found.group(1) if found.group(1) is not None else found.group(2)) if found else None


def form_of(page: str, action_contains: str = "") -> tuple[str, dict]:
    """The first form of an HTML page (whose action contains ``action_contains``): its action and
    its named inputs' values."""
    for form in re.finditer(r"(<form[^>]*>)(.*?)</form>", page, re.S | re.I):
        action = _attribute(form.group(1), "action") or ""
        if action_contains in action:
            fields = {}
            for tag in re.findall(r"<input[^>]*>", form.group(2), re.I):
                if (name := _attribute(tag, "name")) is not None:
                    fields[name] = _attribute(tag, "value") or ""
            return action, fields
    raise AssertionError(f"no form with action {action_contains!r}: {page[:2000]}")


def sign_in_at_oidc_provider(authorize_url: str, login: str, stop_at: str) -> str:
    """Sign in at the provider and consent; returns the redirect back to ``stop_at`` (with its code)."""
    session = requests.Session()
    response = session.get(authorize_url, allow_redirects=False)
    for _ in range(12):
        location = response.headers.get("Location")
        if location:
            location = urllib.parse.urljoin(response.url, location)
            if location.startswith(stop_at):
                return location
            response = session.get(location, allow_redirects=False)
            continue
        action, fields = form_of(response.text)
        if "login" in fields or 'name="login"' in response.text:
            fields.update({"login": login, "password": "any password: the dev provider checks none"})
        response = session.post(urllib.parse.urljoin(response.url, action), data=fields, allow_redirects=False)
    raise AssertionError(f"the provider never sent the browser back: {response.status_code} {response.text[:500]}")


def saml_response_from_idp(redirect_url: str | None, idp: dict, *, email: str, first_name: str = "Ida") -> dict:
    """Sign in at saml-idp; returns the fields its page posts to the service provider's ACS.
    Without ``redirect_url`` the sign-in is IdP-initiated (no AuthnRequest)."""
    session = requests.Session()
    fields = {}
    if redirect_url:
        page = session.get(redirect_url)
        _, fields = form_of(page.text, "/signin")
        assert "_authnRequest" in fields, "saml-idp did not take the AuthnRequest"
    fields.update({"userName": email, "email": email, "firstName": first_name, "lastName": "Provider",
                   "nameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"})
    response = session.post(f"{idp['url']}/signin", data=fields)
    _, posted = form_of(response.text)
    assert "SAMLResponse" in posted, response.text[:2000]
    return posted
