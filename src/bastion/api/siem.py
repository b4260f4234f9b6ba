"""Where the organisation streams its audit and read-access events (its SIEM), and how far each got."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
import uuid
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Schema, Status

from bastion.api.routing import AuthorizingRouter
from bastion.siem import dead_letters, delivery, destinations
from bastion.siem.models import DeadLetter, SiemDestination
from bastion.tenancy.access import requires

router = AuthorizingRouter(tags=["siem"])

Stream = Literal["audit", "access"]


class SiemDestinationIn(Schema):
    name: str = Field(..., max_length=100)
    kind: Literal["webhook", "s3", "syslog"]
    url: str = Field("", max_length=500, description="webhook: its URL; s3: the endpoint (none for AWS); syslog: host:port")
    bucket: str = Field("", max_length=63)
    prefix: str = Field("", max_length=200)
    region: str = Field("", max_length=40)
    access_key_id: str = Field("", max_length=128)
    secret: str = Field("", max_length=500, description="s3: the secret access key (kept in the credentials vault)")
    window_seconds: int = 300
    ca_certificate: str = Field("", max_length=20000, description="syslog: PEM of the authority its certificate chains to")
    streams: list[Stream] = ["audit", "access"]
    enabled: bool = True


class SiemDestinationPatch(Schema):
    name: str | None = Field(None, max_length=100)
    url: str | None = Field(None, max_length=500)
    bucket: str | None = Field(None, max_length=63)
    prefix: str | None = Field(None, max_length=200)
    region: str | None = Field(None, max_length=40)
    access_key_id: str | None = Field(None, max_length=128)
    secret: str | None = Field(None, max_length=500)
    window_seconds: int | None = None
    ca_certificate: str | None = Field(None, max_length=20000)
    streams: list[Stream] | None = None
    enabled: bool | None = None


class SiemDestinationOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    url: str
    bucket: str
    prefix: str
    region: str
    access_key_id: str
    window_seconds: int
    streams: list[str]
    enabled: bool
    audit_cursor: int
    access_cursor: int
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_error: str
    last_delivered_at: datetime.datetime | None
    lag: dict = Field(..., description="per stream: events waiting and the age in seconds of the oldest")
    secret: str | None = Field(None, description="a webhook's HMAC secret: shown in the answer that creates it only")


class DeadLetterOut(Schema):
    id: uuid.UUID
    stream: str
    first_seq: int
    last_seq: int
    error: str
    created_at: datetime.datetime
    events: list[dict]


def destination_out(destination: SiemDestination, secret: str | None = None) -> dict:
    fields = ("id", "name", "kind", "url", "bucket", "prefix", "region", "access_key_id", "window_seconds", "streams",
              "enabled", "audit_cursor", "access_cursor", "attempts", "next_attempt_at", "last_error",
              "last_delivered_at")
    return {**{name: getattr(destination, name) for name in fields},
            "lag": delivery.lag(destination, timezone.now()), "secret": secret}


@router.get("/orgs/{org}/siem-destinations", response=list[SiemDestinationOut])
@requires("organisation.manage")
def list_siem_destinations(request, org: str):
    return [destination_out(d) for d in SiemDestination.objects.filter(organisation_id=request.access.organisation.id)]


@router.post("/orgs/{org}/siem-destinations", response={201: SiemDestinationOut})
@requires("organisation.manage")
def add_siem_destination(request, org: str, payload: SiemDestinationIn):
    """A webhook's answer holds its HMAC secret, this once; bodies are signed
    ``X-Bastion-Signature: sha256=HMAC(secret, X-Bastion-Timestamp + "." + body)``."""
    destination, secret = destinations.add(request.access.organisation, **payload.dict())
    return Status(201, destination_out(destination, secret))


@router.get("/orgs/{org}/siem-destinations/{siem_destination_id}", response=SiemDestinationOut)
@requires("organisation.manage")
def get_siem_destination(request, org: str, siem_destination_id: uuid.UUID):
    return destination_out(request.path_objects["siem_destination_id"])


@router.patch("/orgs/{org}/siem-destinations/{siem_destination_id}", response=SiemDestinationOut)
@requires("organisation.manage")
def update_siem_destination(request, org: str, siem_destination_id: uuid.UUID, payload: SiemDestinationPatch):
    return destination_out(destinations.update(request.path_objects["siem_destination_id"], **payload.dict()))


@router.delete("/orgs/{org}/siem-destinations/{siem_destination_id}", response={204: None})
@requires("organisation.manage")
def remove_siem_destination(request, org: str, siem_destination_id: uuid.UUID):
    destinations.remove(request.path_objects["siem_destination_id"])
    return Status(204, None)


@router.get("/orgs/{org}/siem-destinations/{siem_destination_id}/dead-letters", response=list[DeadLetterOut])
@requires("organisation.manage")
def list_dead_letters(request, org: str, siem_destination_id: uuid.UUID):
    """Batches the destination kept refusing, set aside so that the stream could move on."""
    return list(DeadLetter.objects.filter(destination=request.path_objects["siem_destination_id"]))


class DeadLettersRetriedOut(Schema):
    requeued: int = Field(..., description="dead letters re-queued, sent by the next delivery run in sequence order")
    # Each range is [stream, first seq, last seq]; typed as a 3-item list because a tuple's JSON schema
    # ("items" as an array) is not a valid OpenAPI 3.1 schema object.
    ranges: list[Annotated[list[str | int], Field(min_length=3, max_length=3)]] = Field(
        ..., description="[stream, first seq, last seq] in the order they go")


@router.post("/orgs/{org}/siem-destinations/{siem_destination_id}/dead-letters/retry", response=DeadLettersRetriedOut)
@requires("organisation.manage")
def retry_dead_letters(request, org: str, siem_destination_id: uuid.UUID):
    """Send the destination's dead letters again, at its next delivery (within the minute)."""
    requeued = dead_letters.requeue(request.path_objects["siem_destination_id"])
    return {"requeued": requeued.count, "ranges": requeued.ranges}
