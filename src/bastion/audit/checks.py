"""Deployment checks of the audit log: checkpoints anchored outside this machine's data dir, witnesses
reached over HTTPS, someone told when a chain breaks, and a configured signing key that is a key."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from bastion.checks import expectation, production
from bastion.config import ConfigError, env, env_list, is_set


@register(Tags.security, deploy=True)
def check_anchoring(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems = []
    if not is_set("BASTION_AUDIT_ANCHOR_URL"):
        problems.append(expectation(
            301, "BASTION_AUDIT_ANCHOR_URL is not set: signed checkpoints are anchored only in the data dir, on "
                 "the same machine (and in the same backups) as what they vouch for.",
            "Set BASTION_AUDIT_ANCHOR_URL to an S3 bucket with Object Lock (s3://bucket/prefix) or a directory "
            "on storage the database's owner cannot rewrite."))
    if settings.BASTION_AUDIT_WITNESS_ALLOW_HTTP:
        problems.append(expectation(
            302, "BASTION_AUDIT_WITNESS_ALLOW_HTTP is on: customers' witness webhooks may be plain HTTP.",
            "Unset BASTION_AUDIT_WITNESS_ALLOW_HTTP (only local test receivers need it)."))
    if production() and not (settings.BASTION_ALERT_EMAILS or settings.BASTION_ALERT_WEBHOOK):
        problems.append(Warning(
            "Nobody is told when an audit chain breaks or checkpoints cannot be anchored.",
            hint="Set BASTION_ALERT_EMAILS or BASTION_ALERT_WEBHOOK.", id="bastion.W304"))
    return problems


@register(Tags.security, deploy=True)
def check_signing_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        configured = env("BASTION_AUDIT_SIGNING_KEY")
        published = env_list("BASTION_AUDIT_PUBLIC_KEYS")
    except ConfigError as exc:  # a _FILE that cannot be read
        return [Error(str(exc), hint=exc.hint, id=exc.check_id)]
    problems: list[CheckMessage] = []
    if configured and len(_decoded(configured)) != 32:
        problems.append(Error(
            "BASTION_AUDIT_SIGNING_KEY is not the base64 of a 32-byte Ed25519 seed",
            hint="Give base64 of 32 random bytes (python3 -c 'import base64, secrets; "
                 "print(base64.b64encode(secrets.token_bytes(32)).decode())'), or unset it for a key file "
                 "in the data dir.", id="bastion.E303"))
    for key in published:
        if len(_decoded(key)) != 32:
            problems.append(Error(f"BASTION_AUDIT_PUBLIC_KEYS: {key!r} is not the base64 of a 32-byte Ed25519 "
                                  "public key", hint="Give the keys as `bastion audit` publishes them, "
                                  "comma-separated.", id="bastion.E303"))
    return problems


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""
