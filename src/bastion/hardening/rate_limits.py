"""Rate limits per route and per identity (client address, user, API or SCIM token,
organisation), counted in the shared Django cache (the database by default, Redis across servers)
in fixed windows, one atomic round trip per count (``counters``), answered with 429 and
``Retry-After``, counted in metrics.

The routes and their defaults are ``RULES``; each limit can be changed with the environment
variable ``BASTION_RATE_LIMIT_<RULE>_<KEY>`` (e.g. ``BASTION_RATE_LIMIT_SIGNIN_IP=100/m``) or
switched off with ``off``.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from prometheus_client import Counter

from bastion.audit.context import client_address
from bastion.hardening import counters
from bastion.hardening.refusals import refusal

REFUSED = Counter("bastion_rate_limited_total", "Requests refused by a rate limit", ["rule", "key"])
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READS = frozenset({"GET", "HEAD", "OPTIONS"})
ORGANISATION_IN_PATH = re.compile(r"^/api/v1/orgs/([^/]+)/")
clock = time.time  # the windows' clock (tests stop it)


@dataclass(frozen=True)
class Rule:
    name: str
    path: re.Pattern
    methods: frozenset[str]
    limits: tuple[tuple[str, str], ...]  # (key, default rate)


RULES = (
    Rule("signin", re.compile(r"^/accounts/login/$"), WRITES, (("ip", "100/m"),)),
    Rule("mfa", re.compile(r"^/accounts/2fa/authenticate/"), WRITES, (("ip", "30/m"),)),
    Rule("sso", re.compile(r"^/accounts/sso/$"), WRITES, (("ip", "30/m"),)),
    Rule("reset", re.compile(r"^/accounts/password/reset/"), WRITES, (("ip", "20/m"),)),
    Rule("signup", re.compile(r"^/accounts/signup/"), WRITES, (("ip", "20/m"),)),
    Rule("scim", re.compile(r"^/scim/"), READS | WRITES, (("token", "600/m"), ("ip", "1200/m"))),
    Rule("api_read", re.compile(r"^/api/"), READS, (("identity", "600/m"), ("organisation", "3000/m"))),
    Rule("api_write", re.compile(r"^/api/"), WRITES, (("identity", "120/m"), ("organisation", "600/m"))),
    # Each subscription emails an address someone typed: a low limit keeps the form from being a mail cannon.
    Rule("status_subscribe", re.compile(r"^/status/subscribe$"), WRITES, (("ip", "10/h"),)),
    # A vulnerability report (and a reporter's reply) is read by people: a low limit keeps the form from being a spam inlet.
    Rule("security_report", re.compile(r"^/security(/reports/[^/]+)?$"), WRITES, (("ip", "10/h"),)),
    # A request for an NDA document emails its link, or staff: the same low limit as the report form.
    Rule("trust_document_request", re.compile(r"^/trust/documents/[^/]+/request$"), WRITES, (("ip", "10/h"),)),
    Rule("csp_report", re.compile(r"^/csp-report/$"), WRITES, (("ip", "60/m"),)),
)


def _token_digest(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("bearer "):
        return None
    return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]


def _identity(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return _token_digest(request) or f"ip:{client_address(request)}"


KEYS = {
    "ip": lambda request: f"ip:{client_address(request)}",
    "token": lambda request: _token_digest(request) or f"ip:{client_address(request)}",
    "identity": _identity,
    "organisation": lambda request: (f"org:{match.group(1)}" if (match := ORGANISATION_IN_PATH.match(request.path))
                                     else None),
}


def rate_for(rule: Rule, key: str, default: str) -> str | None:
    configured = settings.BASTION_RATE_LIMITS.get(f"{rule.name}_{key}".upper(), default)
    return None if configured in ("", "off") else configured


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for rule in RULES:
            if request.method in rule.methods and rule.path.match(request.path):
                refused = self._check(request, rule)
                if refused is not None:
                    return refused
        return self.get_response(request)

    def _check(self, request, rule: Rule):
        for key, default in rule.limits:
            rate = rate_for(rule, key, default)
            value = KEYS[key](request)
            if rate is None or value is None:
                continue
            digest = hashlib.sha256(value.encode()).hexdigest()[:32]  # any length of path segment fits the key
            usage = counters.hit(f"bastion.{rule.name}.{key}:{digest}", rate, clock())
            if usage.should_limit:
                REFUSED.labels(rule=rule.name, key=key).inc()
                return _too_many(request, usage.time_left)
        return None


def _too_many(request, retry_after: int):
    response = refusal(request, 429, "rate_limited", f"Too many requests. Try again in {retry_after} seconds.",
                       title="Too many requests")
    response["Retry-After"] = str(retry_after)
    return response
