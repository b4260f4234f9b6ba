"""Behind a reverse proxy: ``X-Forwarded-Proto`` and ``X-Forwarded-For`` are believed only from the
proxies in ``BASTION_TRUSTED_PROXIES`` (IP addresses or networks, comma-separated; none by default).

From a trusted proxy (the connection's ``REMOTE_ADDR`` is in one of those networks):

- ``X-Forwarded-Proto: https`` marks the request secure (``wsgi.url_scheme``, which Django's
  ``request.is_secure()`` reads); ``http`` marks it not secure. With several values (proxies that
  append), the right-most one counts: the one our own proxy wrote;
- the client's address is taken from ``X-Forwarded-For``: walking from the right (the entry our
  proxy appended), past every address that is itself a trusted proxy, to the first that is not.
  That one becomes ``REMOTE_ADDR``, so everything that asks for the client's address
  (``bastion.audit.context.client_address``: audit events, lockout, rate limits, sessions) gets
  the client's. Entries left of it were written by the client and are not believed; an entry that
  is not an address stops the walk at the last trusted hop.

From anyone else, both headers (and the other forwarding headers) are ignored and removed from the
request, so nothing further down can read a client's claim about its own address or scheme.

This is the first middleware, before Django's ``SecurityMiddleware`` (HTTPS redirects, HSTS). The
setting is read at each request. gunicorn trusts no more than this (``gunicorn_forwarded_allow_ips``).
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# A client's claims about where it comes from, dropped unless a trusted proxy sent them.
FORWARDING_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PROTOCOL",
    "HTTP_X_FORWARDED_SSL",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
)


@functools.lru_cache(maxsize=16)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of ``BASTION_TRUSTED_PROXIES`` (settings has checked each entry)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=True) for entry in entries if entry.strip())


def parse_address(text: str | None) -> IPAddress | None:
    """An address as proxies write it: bare, ``a.b.c.d:port``, ``[v6]`` or ``[v6]:port``; IPv4-mapped
    IPv6 addresses (a dual-stack listener's) as IPv4. None when it is not an address."""
    text = (text or "").strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def forwarded_client(forwarded_for: str, networks: tuple[Network, ...]) -> IPAddress | None:
    """The right-most address of ``X-Forwarded-For`` that is not a trusted proxy (see above)."""
    client = None
    for hop in reversed(forwarded_for.split(",")):
        address = parse_address(hop)
        if address is None:
            break
        client = address
        if not is_trusted(address, networks):
            break
    return client


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        networks = trusted_networks(tuple(getattr(settings, "BASTION_TRUSTED_PROXIES", ())))
        if is_trusted(parse_address(meta.get("REMOTE_ADDR")), networks):
            scheme = (meta.get("HTTP_X_FORWARDED_PROTO") or "").split(",")[-1].strip().lower()
            if scheme in {"http", "https"}:
                meta["wsgi.url_scheme"] = scheme
            client = forwarded_client(meta.get("HTTP_X_FORWARDED_FOR") or "", networks)
            if client is not None:
                meta["REMOTE_ADDR"] = str(client)
        else:
            for header in FORWARDING_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)


def gunicorn_forwarded_allow_ips(entries) -> str:
    """gunicorn's ``forwarded_allow_ips`` for ``BASTION_TRUSTED_PROXIES``: never wider than ours.

    gunicorn 23 compares the peer's address with each entry as a string (no networks), so it gets
    the single addresses among ours (a /32 or /128 counts as one); networks are left to the
    middleware, which decides the scheme and the client's address for every request anyway. Empty
    when no proxy is trusted: gunicorn then believes no one's forwarding headers.
    """
    addresses = []
    for network in trusted_networks(tuple(entries)):
        if network.num_addresses == 1:
            addresses.append(str(network.network_address))
    return ",".join(addresses)
