"""The HTTP session allauth uses to reach an organisation's identity provider (OIDC discovery, keys,
tokens, user info): it connects only to addresses ``tenancy.outbound`` allows, so an admin cannot point
the platform's servers at its own network through an issuer URL. The connection goes to the address
that was vetted (no second lookup for DNS rebinding to change), and over HTTPS the certificate is still
checked against the provider's host name."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from bastion.tenancy import outbound

DEFAULT_PORTS = {"http": 80, "https": 443}


class GuardedAdapter(HTTPAdapter):
    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: float | tuple[float | None, float | None] | None = None, verify: bool | str = True,
             cert: str | tuple[str, str] | None = None, proxies: dict[str, str] | None = None) -> requests.Response:
        # The connection is made to an IP address: the Host header keeps naming the provider.
        netloc = urlsplit(request.url or "").netloc.rpartition("@")[2]
        request.headers.setdefault("Host", netloc)
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        # A refused destination is a ValueError: requests reports it as InvalidURL, a RequestException
        # that allauth turns into a failed sign-in.
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        hostname, scheme = host_params["host"], host_params["scheme"]
        address = outbound.public_address(hostname, host_params.get("port") or DEFAULT_PORTS.get(scheme, 443))
        host_params = {**host_params, "host": str(address)}
        if scheme == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": hostname, "assert_hostname": hostname}
        return host_params, pool_kwargs


def session(timeout: float) -> requests.Session:
    guarded = requests.Session()
    adapter = GuardedAdapter()
    guarded.mount("http://", adapter)
    guarded.mount("https://", adapter)
    guarded.request = functools.partial(guarded.request, timeout=timeout)  # type: ignore[method-assign]
    return guarded
