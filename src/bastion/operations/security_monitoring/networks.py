"""Addresses reduced to the networks the rules compare."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def country_sized(address: str | None) -> str | None:
    """The address's "country-sized" network: no GeoIP database is available offline, so it is a
    prefix (``BASTION_SECURITY_NETWORK_PREFIX_V4``/``_V6``, /16 and /32 by default). ``None`` for no
    or a malformed address."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    prefix = settings.BASTION_SECURITY_NETWORK_PREFIX_V4 if ip.version == 4 else settings.BASTION_SECURITY_NETWORK_PREFIX_V6
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
