"""Requests the platform makes to addresses a customer chose (witness webhooks, identity providers).

A customer's admin names a URL and the platform's servers call it: without a guard, that is a way to
make the platform reach its own network — the cloud metadata service, the database, an admin port on
localhost (server-side request forgery). So a customer's URL may only lead to public addresses:
every address its host resolves to must be globally routable, unless an operator allowed the network
(``BASTION_OUTBOUND_ALLOWED_NETWORKS``: an on-premises witness, the test suite's local receivers).

The check is made when the URL is registered (a clear field error) and again at each request, against
the very address the connection then uses (``post``): a host that resolved to a public address when it
was registered and to a private one later (DNS rebinding) is refused, not followed.

Written here rather than taken from a library: the maintained HTTP clients have no such guard, and
the one-purpose packages for it (``advocate``) are unmaintained.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedDestination(ValueError):
    """The URL leads (or now resolves) somewhere a customer's URL may not: one line, fit for an error body."""


class Unresolvable(RefusedDestination):
    """The host does not resolve (a typo, or a name not published yet)."""


def _allowed(address: IPAddress) -> bool:
    if address.is_global and not address.is_multicast:
        return True
    return any(address in ipaddress.ip_network(network) for network in settings.BASTION_OUTBOUND_ALLOWED_NETWORKS)


def public_address(host: str, port: int) -> IPAddress:
    """The address to connect to: the first one ``host`` resolves to, provided all of them are allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Unresolvable(f"the host {host!r} does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]  # (host, port, …)
    refused = sorted({str(a) for a in addresses if not _allowed(a)})
    if not addresses or refused:
        raise RefusedDestination(
            f"the host {host!r} leads to an address that is not public ({', '.join(refused)}); "
            "a customer's URL may only reach the internet")
    return addresses[0]


def check_url(url: str, *, unresolvable_ok: bool = False) -> None:
    """Refuse (``RefusedDestination``) a URL whose host leads to a private, loopback or link-local address.

    ``unresolvable_ok``: a host that does not resolve (yet) passes; each request checks again anyway."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise RefusedDestination("the URL names no host")
    try:
        public_address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except Unresolvable:
        if not unresolvable_ok:
            raise


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the vetted address while checking the certificate against the host's name."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((str(self._address), self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Response:
    status: int


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Response:
    """POST ``body`` to ``url`` over a connection to an allowed address; redirects are not followed.

    Raises ``RefusedDestination`` for a disallowed destination and ``OSError`` when it cannot be reached."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedDestination("the URL is not an http(s) URL with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = public_address(parts.hostname, port)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(parts.hostname, port, address, timeout)
    else:
        connection = http.client.HTTPConnection(str(address), port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    try:
        connection.request("POST", path, body=body, headers={**headers, "Host": host_header})
        return Response(status=connection.getresponse().status)
    finally:
        connection.close()
