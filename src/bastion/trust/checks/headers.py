"""Headers and CSP on a live response: a real request to ``BASTION_STATUS_PROBE_URL`` when it is set,
else Django's test client through the whole middleware stack and URL map (the same response code)."""

from __future__ import annotations

import urllib.request

from django.conf import settings
from django.test import Client

from bastion.trust.checks import Outcome, check, failed, passed

_REQUIRED = {"content-security-policy": "default-src", "x-content-type-options": "nosniff",
             "x-frame-options": "DENY", "referrer-policy": ""}


def _live_headers() -> tuple[str, dict[str, str]]:
    base = settings.BASTION_STATUS_PROBE_URL.rstrip("/")
    if base:
        with urllib.request.urlopen(base + "/trust", timeout=10) as response:  # noqa: S310  (operator's URL)
            return base + "/trust", {k.lower(): v for k, v in response.headers.items()}
    host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*", "")), "localhost").lstrip(".")
    response = Client(HTTP_HOST=host).get("/trust", secure=True)
    return f"https://{host}/trust (in-process)", {k.lower(): v for k, v in response.headers.items()}


@check("hardening.headers", "Security headers and a strict CSP on a live response")
def security_headers() -> Outcome:
    where, headers = _live_headers()
    missing = [name for name, needle in _REQUIRED.items() if needle not in headers.get(name, "\0")]
    csp = headers.get("content-security-policy", "")
    if "'unsafe-inline'" in csp.split("script-src", 1)[-1].split(";", 1)[0]:
        missing.append("content-security-policy: script-src without 'unsafe-inline'")
    # HSTS is sent over TLS only (a browser ignores it over plain HTTP): asked of https responses.
    if settings.SECURE_HSTS_SECONDS and where.startswith("https") and "strict-transport-security" not in headers:
        missing.append("strict-transport-security")
    evidence = {"url": where, "headers": {k: headers.get(k, "") for k in [*_REQUIRED, "strict-transport-security"]}}
    if missing:
        return failed(f"{where} lacks: {', '.join(missing)}", **evidence)
    return passed(f"{where}: CSP, HSTS, nosniff, frame DENY and referrer policy present", **evidence)


@check("hardening.rate_limits", "Rate limits are on for sign-in, MFA, SSO, SCIM and the API")
def rate_limits() -> Outcome:
    from bastion.hardening.rate_limits import RULES, rate_for  # noqa: PLC0415

    state = {f"{rule.name}:{key}": rate_for(rule, key, default) for rule in RULES for key, default in rule.limits}
    off = sorted(name for name, rate in state.items() if rate is None)
    if off:
        return failed(f"rate limits switched off: {', '.join(off)}", limits=state)
    return passed(f"all {len(state)} rate limits on", limits=state)
