"""Residency: the region the deployment declares (``BASTION_REGION``), the region each configured
endpoint is in, and the data-flow table (what is stored where) published with the inventory."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.conf import settings

# bucket.s3.eu-west-1.amazonaws.com, s3.eu-west-1.amazonaws.com, s3-eu-west-1.amazonaws.com, kms.eu-west-1.amazonaws.com
_AWS_HOST = re.compile(r"(?:^|\.)(?:s3|kms)[.-]([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$")
_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z]{2}(?:-[a-z]+)+-\d+):")


@dataclass(frozen=True)
class Endpoint:
    setting: str
    what: str
    region: str | None  # None: not an AWS endpoint (a local directory, a self-hosted service)


def region_of(url: str) -> str | None:
    """The AWS region an S3 URL (``region=`` or ``endpoint_url=``), an endpoint URL or a KMS key ARN names."""
    if not url:
        return None
    if match := _ARN.match(url):
        return match.group(1)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if query.get("region"):
        return query["region"][0]
    if query.get("endpoint_url"):
        return region_of(query["endpoint_url"][0])
    if match := _AWS_HOST.search(parts.hostname or ""):
        return match.group(1)
    return None


def endpoints() -> list[Endpoint]:
    found = [
        Endpoint("BASTION_STORAGE_URL", "object storage (evidence files, exports)",
                 region_of(settings.BASTION_STORAGE_URL)),
        Endpoint("BASTION_BACKUP_URL", "offsite backups", region_of(settings.BASTION_BACKUP_URL)),
        Endpoint("BASTION_AUDIT_ANCHOR_URL", "audit anchors", region_of(settings.BASTION_AUDIT_ANCHOR_URL)),
    ]
    if settings.BASTION_KMS == "aws-kms":
        found.append(Endpoint("BASTION_AWS_REGION", "KMS (key-encryption keys)", settings.BASTION_AWS_REGION))
        if settings.BASTION_AWS_KMS_ENDPOINT_URL:
            found.append(Endpoint("BASTION_AWS_KMS_ENDPOINT_URL", "KMS endpoint",
                                  region_of(settings.BASTION_AWS_KMS_ENDPOINT_URL)))
    return found


def outside_region() -> list[Endpoint]:
    """Endpoints configured in a region other than the declared one (none when no region is declared)."""
    region = settings.BASTION_REGION
    return [e for e in endpoints() if region and e.region is not None and e.region != region]


def _place(url: str, local: str) -> str:
    if not url:
        return local
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or parts.netloc}" if parts.scheme else "local directory"


def data_flows() -> list[dict]:
    """What is stored where: no credentials, only the kind of place, its host and its region."""
    database = settings.DATABASES["default"]
    engine = "PostgreSQL" if "postgresql" in database["ENGINE"] else "SQLite"
    region = settings.BASTION_REGION or None
    kms = ("AWS KMS", settings.BASTION_AWS_REGION) if settings.BASTION_KMS == "aws-kms" else ("local key files in the data directory", region)
    return [
        {"store": "database", "holds": "accounts, organisations, records, audit chains, settings (secrets encrypted or hashed)",
         "where": f"{engine} {database.get('HOST') or 'local'}", "region": region},
        {"store": "object storage", "holds": "evidence files and exports, encrypted before upload",
         "where": _place(settings.BASTION_STORAGE_URL, "local directory"), "region": region_of(settings.BASTION_STORAGE_URL) or region},
        {"store": "KMS", "holds": "key-encryption keys wrapping each organisation's data keys",
         "where": kms[0], "region": kms[1]},
        {"store": "backups", "holds": "database backups and WAL (encrypted)",
         "where": _place(settings.BASTION_BACKUP_URL, "local directory"), "region": region_of(settings.BASTION_BACKUP_URL) or region},
        {"store": "audit anchors", "holds": "signed audit checkpoints (hashes, no personal data)",
         "where": _place(settings.BASTION_AUDIT_ANCHOR_URL, "local directory"),
         "region": region_of(settings.BASTION_AUDIT_ANCHOR_URL) or region},
        {"store": "email", "holds": "notifications to members and subscribers (addresses, message text)",
         "where": f"SMTP {settings.EMAIL_HOST}" if settings.EMAIL_HOST else "not sent (console)", "region": None},
        {"store": "logs", "holds": "request and job logs (pseudonymous ids, no record contents)",
         "where": "standard output / syslog of the host", "region": region},
    ]
