"""How a batch of events reaches each kind of destination. Each raises ``DeliveryError`` (one line,
never the secret) when the destination did not take the batch; the caller then retries it later.

Syslog is written here rather than through a library: the maintained Python syslog handlers speak
neither RFC 5425's octet-counted framing nor TLS with a per-destination trust anchor."""

from __future__ import annotations

import datetime
import http.client
import json
import socket
import ssl
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bastion.siem.models import SiemDestination
from bastion.tenancy import outbound
from bastion.tenancy.witnesses import signature

TIMEOUT_SECONDS = 10
SYSLOG_PRI = 13 * 8 + 6  # facility 13 "log audit", severity 6 "informational"
ENTERPRISE_ID = "32473"  # RFC 5612's number for documentation examples


class DeliveryError(Exception):
    pass


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def webhook(destination: SiemDestination, secret: str, stream: str, events: list[dict[str, Any]]) -> None:
    """POST ``{"stream", "events"}``; ``X-Bastion-Signature: sha256=HMAC(secret, timestamp + "." + body)``."""
    body = _json({"stream": stream, "organisation": str(destination.organisation_id), "events": events})
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "Bastion SIEM streaming",
               "X-Bastion-Timestamp": timestamp, "X-Bastion-Signature": signature(secret, timestamp, body),
               "X-Bastion-Stream": stream, "X-Bastion-Sequence": f"{events[0]['seq']}-{events[-1]['seq']}"}
    try:
        response = outbound.post(destination.url, body, headers, timeout=TIMEOUT_SECONDS)
    except outbound.RefusedDestination as exc:
        raise DeliveryError(f"the webhook was not called: {exc}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"the webhook could not be reached ({exc.__class__.__name__})") from None
    if not 200 <= response.status < 300:
        raise DeliveryError(f"the webhook answered HTTP {response.status}")


def window_of(destination: SiemDestination, event: dict[str, Any]) -> int:
    moment = datetime.datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC)
    return int(moment.timestamp()) // destination.window_seconds


def object_key(destination: SiemDestination, stream: str, events: list[dict[str, Any]]) -> str:
    start = datetime.datetime.fromtimestamp(window_of(destination, events[0]) * destination.window_seconds, datetime.UTC)
    return (f"{destination.prefix}{destination.organisation_id}/{stream}/{start:%Y/%m/%d/%H%M%S}"
            f"-{events[0]['seq']:012d}-{events[-1]['seq']:012d}.jsonl")


def s3(destination: SiemDestination, secret: str, stream: str, events: list[dict[str, Any]]) -> None:
    """One JSON Lines object for events of one time window (the caller splits batches by window)."""
    try:
        if destination.url:
            outbound.check_url(destination.url)
        client = boto3.client("s3", endpoint_url=destination.url or None, region_name=destination.region or None,
                              aws_access_key_id=destination.access_key_id, aws_secret_access_key=secret,
                              config=Config(connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS,
                                            retries={"max_attempts": 1}))
        client.put_object(Bucket=destination.bucket, Key=object_key(destination, stream, events),
                          Body=b"".join(_json(e) + b"\n" for e in events), ContentType="application/x-ndjson")
    except outbound.RefusedDestination as exc:
        raise DeliveryError(f"the bucket was not called: {exc}") from None
    except ClientError as exc:
        raise DeliveryError(f"the bucket refused the object ({exc.response.get('Error', {}).get('Code', '?')})") from None
    except (BotoCoreError, OSError) as exc:
        raise DeliveryError(f"the bucket could not be reached ({exc.__class__.__name__})") from None


def syslog_message(destination: SiemDestination, stream: str, event: dict[str, Any]) -> bytes:
    """RFC 5424: ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`` with the event as JSON."""
    data = f'[bastion@{ENTERPRISE_ID} organisation="{destination.organisation_id}" stream="{stream}" seq="{event["seq"]}"]'
    header = f"<{SYSLOG_PRI}>1 {event['time']} bastion bastion - {stream} {data} "
    return header.encode() + _json(event)


def syslog(destination: SiemDestination, secret: str, stream: str, events: list[dict[str, Any]]) -> None:
    """RFC 5425: each message as ``MSG-LEN SP SYSLOG-MSG`` over one TLS connection."""
    host, _, port_text = destination.url.rpartition(":")
    host = host.strip("[]")
    context = ssl.create_default_context(cadata=destination.ca_certificate or None)
    try:
        address = outbound.public_address(host, int(port_text))
        with socket.create_connection((str(address), int(port_text)), TIMEOUT_SECONDS) as raw, \
                context.wrap_socket(raw, server_hostname=host) as connection:
            for event in events:
                message = syslog_message(destination, stream, event)
                connection.sendall(f"{len(message)} ".encode() + message)
    except outbound.RefusedDestination as exc:
        raise DeliveryError(f"the syslog server was not called: {exc}") from None
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"the syslog server could not be reached ({exc.__class__.__name__})") from None


SEND = {"webhook": webhook, "s3": s3, "syslog": syslog}
