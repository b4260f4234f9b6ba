"""Deployment checks of web hardening: how the site is reached (TLS or a trusted proxy), which
host names it answers, where its secret key comes from, and the rate-limit overrides."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from bastion.checks import expectation
from bastion.config import MALFORMED, UNKNOWN_VALUE, is_set
from bastion.hardening.rate_limits import RULES

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
RATE = re.compile(r"^[1-9][0-9]*/[smhd]$")


@register(Tags.security, deploy=True)
def check_transport(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.BASTION_SERVES_TLS or settings.BASTION_TRUSTED_PROXIES:
        return []
    return [expectation(
        101, "The site is served over plain HTTP and no TLS-terminating proxy is declared: passwords, "
             "session cookies and records would cross the network in clear.",
        "Serve HTTPS with `bastion serve --certfile CERT --keyfile KEY` (give the same options to "
        "`bastion config check`), or put a TLS proxy in front and list its address in BASTION_TRUSTED_PROXIES.")]


@register(Tags.security, deploy=True)
def check_hosts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if "*" in settings.ALLOWED_HOSTS:
        return [expectation(
            102, "BASTION_ALLOWED_HOSTS contains '*': any Host header is believed (password-reset links, "
                 "absolute URLs and cache keys can be poisoned).",
            "List the host names the site is reached by, e.g. BASTION_ALLOWED_HOSTS=bastion.example.com.")]
    if set(settings.ALLOWED_HOSTS) <= LOOPBACK_HOSTS:
        return [expectation(
            102, "BASTION_ALLOWED_HOSTS names only this machine (localhost): nobody else can reach the site.",
            "Set BASTION_ALLOWED_HOSTS to the host names the site is reached by, e.g. bastion.example.com.")]
    return []


@register(Tags.security, deploy=True)
def check_secret_key_source(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if is_set("BASTION_SECRET_KEY"):
        return []
    return [expectation(
        103, "BASTION_SECRET_KEY is not set: the secret key (it signs sessions, reset links and CSRF tokens) "
             "was generated into the data dir, differs on each server and is lost with it.",
        "Generate one (python3 -c 'import secrets; print(secrets.token_urlsafe(64))'), keep it in your secret "
        "store and give it as BASTION_SECRET_KEY or BASTION_SECRET_KEY_FILE.")]


@register(Tags.security, deploy=True)
def check_rate_limits(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    known = {f"{rule.name}_{key}".upper() for rule in RULES for key, _ in rule.limits}
    problems: list[CheckMessage] = []
    for name, value in sorted(settings.BASTION_RATE_LIMITS.items()):
        if name not in known:
            problems.append(Error(f"BASTION_RATE_LIMIT_{name} names no rate limit",
                                  hint=f"Known: {', '.join('BASTION_RATE_LIMIT_' + k for k in sorted(known))}.",
                                  id=UNKNOWN_VALUE))
        elif value != "off" and not RATE.match(value):
            problems.append(Error(f"BASTION_RATE_LIMIT_{name}={value!r} is not a rate",
                                  hint="Give N/s, N/m, N/h or N/d (N at least 1), or off.", id=MALFORMED))
    return problems
