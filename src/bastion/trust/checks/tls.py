"""TLS by handshake: when the deployment is served over HTTPS (``BASTION_STATUS_PROBE_URL`` is an
https URL), real handshakes with it show TLS 1.2+ with an AEAD suite, TLS 1.0/1.1 and CBC suites
refused, and a certificate not about to expire. Served over plain HTTP (TLS ends at a proxy in
front), there is nothing to shake hands with from here: not applicable, said so."""

from __future__ import annotations

import datetime
import socket
import ssl
import urllib.parse
import warnings

from cryptography import x509
from django.conf import settings

from bastion.trust.checks import NOT_APPLICABLE, Outcome, check, failed, passed

CERTIFICATE_DAYS_LEFT = 14
_AEAD_TLS12 = ("GCM", "CHACHA20")


def _client(*, versions: tuple[ssl.TLSVersion, ssl.TLSVersion] | None = None, ciphers: str | None = None):
    # Protocol facts, not trust: the certificate chain is the browser's to judge (and the operator's
    # CA may be private), so verification is off here and the expiry is read from the certificate.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if versions:
        with warnings.catch_warnings():  # TLSVersion.TLSv1/TLSv1_1 are deprecated: asking for them is the test
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version, context.maximum_version = versions
    if ciphers:
        context.set_ciphers(ciphers)
    return context


def _handshake(host: str, port: int, context: ssl.SSLContext) -> tuple[str, str, bytes] | None:
    """(version, cipher, DER certificate) of a completed handshake, or None when the server refused."""
    with socket.create_connection((host, port), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=host) as wrapped:
                cipher = wrapped.cipher()
                return (wrapped.version() or "", cipher[0] if cipher else "",
                        wrapped.getpeercert(binary_form=True) or b"")
        except ssl.SSLError:
            return None


@check("hardening.tls_handshake", "TLS 1.2+ with AEAD suites only and a valid certificate, by handshake")
def tls_handshake() -> Outcome:
    url = urllib.parse.urlsplit(settings.BASTION_STATUS_PROBE_URL or "")
    if url.scheme != "https":
        return Outcome(NOT_APPLICABLE, "served over plain HTTP by this process (TLS ends in front of it, or the "
                       "probe URL is not set): no handshake to check", {"probe_url_scheme": url.scheme or None})
    host, port = url.hostname or "localhost", url.port or 443
    problems: list[str] = []
    modern = _handshake(host, port, _client())
    if modern is None:
        return failed(f"{host}:{port}: no TLS handshake completed", endpoint=f"{host}:{port}")
    version, cipher, der = modern
    if version not in ("TLSv1.3", "TLSv1.2") or (version == "TLSv1.2" and not any(a in cipher for a in _AEAD_TLS12)):
        problems.append(f"negotiated {version} {cipher}")
    old = {}
    for name in ("TLSv1", "TLSv1_1"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pinned = getattr(ssl.TLSVersion, name)
        # SECLEVEL=0 so that our own OpenSSL offers the old version and the refusal is the server's.
        old[name] = _handshake(host, port, _client(versions=(pinned, pinned), ciphers="DEFAULT:@SECLEVEL=0")) is None
    problems += [f"{name} accepted" for name, refused in old.items() if not refused]
    tls12 = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    cbc = _handshake(host, port, _client(versions=tls12, ciphers="ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:"
                                         "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES128-SHA"))
    if cbc is not None:
        problems.append(f"a CBC suite accepted ({cbc[1]})")
    expires = x509.load_der_x509_certificate(der).not_valid_after_utc
    days_left = (expires - datetime.datetime.now(datetime.UTC)).days
    if days_left < CERTIFICATE_DAYS_LEFT:
        problems.append(f"the certificate expires in {days_left} days")
    evidence = {"endpoint": f"{host}:{port}", "version": version, "cipher": cipher,
                "refused": {**{n: r for n, r in old.items()}, "cbc_suites": cbc is None},
                "certificate_not_after": expires.isoformat(), "certificate_days_left": days_left}
    if problems:
        return failed(f"{host}:{port}: {'; '.join(problems)}", **evidence)
    return passed(f"{host}:{port}: {version} {cipher}; TLS 1.0/1.1 and CBC suites refused; certificate valid "
                  f"{days_left} more days", **evidence)
