"""The organisation's audit log: browse, export, prove inclusion, see the last verification."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import base64
import datetime
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from bastion.api.pagination import paginate
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import IsoDateTime, PageQuery, Text, page_of
from bastion.audit import chain as audit_chain
from bastion.audit import export, personal, queries, signing
from bastion.audit.audit_actions import AUDIT_EXPORTED
from bastion.audit.checkpoints import record_of
from bastion.audit.models import AuditEvent, Checkpoint
from bastion.tenancy import artifacts, witnesses
from bastion.tenancy.access import NotFound, public, requires
from bastion.tenancy.models import AuditWitness

router = AuthorizingRouter(tags=["audit"])
public_router = Router(tags=["audit"])


class EventQuery(PageQuery):
    actor: Text = ""
    action: Text = Field("", description="an action name, or a prefix ending in '.' such as 'member.'")
    resource_type: Text = ""
    resource_id: Text = ""
    since: IsoDateTime | None = None
    until: IsoDateTime | None = None


class ActorOut(Schema):
    type: str
    id: str
    label: str


class EventOut(Schema):
    seq: int
    time: datetime.datetime
    actor: ActorOut
    ip: str | None
    user_agent: str
    action: str
    resource_type: str
    resource_id: str
    changes: dict
    request_id: str
    prev_hash: str
    hash: str


def event_out(event: AuditEvent | personal.Shown) -> dict:
    """An event as people read it: a person's pseudonym resolved while they are known, "erased person" after."""
    return {
        "seq": event.seq, "time": event.occurred_at,
        "actor": {"type": event.actor_type, "id": event.actor_id, "label": event.actor_label},
        "ip": event.ip, "user_agent": event.user_agent, "action": event.action, "resource_type": event.resource_type,
        "resource_id": event.resource_id, "changes": event.changes, "request_id": event.request_id,
        "prev_hash": event.prev_hash, "hash": event.hash,
    }


@router.get("/orgs/{org}/audit/events", response=page_of(EventOut))
@requires("audit.view")
def list_events(request, org: str, q: Query[EventQuery]):
    found = queries.events(request.access.organisation.id, actor=q.actor, action=q.action,
                           resource_type=q.resource_type, resource_id=q.resource_id, since=q.since, until=q.until)
    page = paginate(found, q.page, q.page_size)
    page["items"] = [event_out(e) for e in personal.shown(list(page["items"]))]
    return page


@router.get("/orgs/{org}/audit/status")
@requires("audit.view")
def audit_status(request, org: str):
    return queries.status(request.access.organisation.id)


class ProofQuery(Schema):
    hash: Text = Field(..., min_length=64, max_length=64, description="the entry hash of the event")
    tree_size: int | None = Field(None, ge=1, description="default: the latest signed checkpoint")


@router.get("/orgs/{org}/audit/proof")
@requires("audit.view")
def inclusion_proof(request, org: str, q: Query[ProofQuery]):
    chain_id = str(request.access.organisation.id)
    event = get_object_or_404(AuditEvent.objects.filter(chain_id=chain_id), hash=q.hash.lower())
    checkpoint = (Checkpoint.objects.filter(chain_id=chain_id, tree_size=q.tree_size).first() if q.tree_size
                  else Checkpoint.objects.filter(chain_id=chain_id).order_by("-tree_size").first())
    if checkpoint is None or checkpoint.tree_size < event.seq:
        raise ValidationError({"tree_size": ValidationError(
            "No signed checkpoint covers this event yet.", code="not_checkpointed")})
    proof = export.inclusion(chain_id, event.seq, checkpoint.tree_size)
    if proof is None:  # the chain holds fewer events than its checkpoint covers: nothing to prove against
        raise ValidationError({"tree_size": ValidationError(
            "No signed checkpoint covers this event yet.", code="not_checkpointed")})
    return {**proof, "checkpoint": {"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash,
                                    "time": checkpoint.time, "key_id": checkpoint.key_id,
                                    "signature": checkpoint.signature}}


@router.get("/orgs/{org}/audit/export")
@requires("audit.export")
def export_log(request, org: str):
    organisation = request.access.organisation
    with transaction.atomic():
        audit_chain.record(AUDIT_EXPORTED, organisation_id=organisation.id, resource_type="audit_chain",
                           resource_id=organisation.id)
    # The lines are produced after this view's transaction: the export opens its own.
    response = StreamingHttpResponse(export.export_lines(str(organisation.id)), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="audit-{organisation.slug}.jsonl"'
    return response


class ExportOut(Schema):
    id: uuid.UUID
    size: int
    sha256: str
    expires_at: datetime.datetime
    download: str = Field(..., description="GET it once: the export is deleted as it is downloaded")


@router.post("/orgs/{org}/audit/exports", response={201: ExportOut})
@requires("audit.export")
def create_export(request, org: str):
    """Prepare the export as an encrypted file, for one download within BASTION_EPHEMERAL_ARTIFACT_DAYS."""
    organisation = request.access.organisation
    lines = (line.encode() for line in export.export_lines(str(organisation.id)))
    artifact = artifacts.create(organisation, lines, purpose="audit_export", action=AUDIT_EXPORTED)
    return Status(201, {"id": artifact.id, "size": artifact.size, "sha256": artifact.sha256,
                        "expires_at": artifact.expires_at,
                        "download": f"/api/v1/orgs/{organisation.slug}/audit/exports/{artifact.id}"})


@router.get("/orgs/{org}/audit/exports/{artifact_id}")
@requires("audit.export")
def download_export(request, org: str, artifact_id: uuid.UUID):
    artifact = request.path_objects["artifact_id"]
    if artifact.purpose != "audit_export":
        raise NotFound()
    return FileResponse(artifacts.consume(artifact), as_attachment=True,
                        filename=f"audit-{request.access.organisation.slug}.jsonl", content_type="application/x-ndjson")


@router.get("/orgs/{org}/audit/checkpoint")
@requires("audit.checkpoints")
def latest_checkpoint(request, org: str):
    """The latest signed checkpoint, as ``bastion-verify --trusted-checkpoint`` reads it: save it."""
    checkpoint = Checkpoint.objects.filter(chain_id=request.access.organisation.id).order_by("-tree_size").first()
    if checkpoint is None:
        raise NotFound()
    return record_of(checkpoint)


class ConsistencyQuery(Schema):
    from_size: int = Field(..., alias="from", ge=0, description="the tree size of the checkpoint you hold")
    to_size: int | None = Field(None, alias="to", ge=0, description="default: the latest signed checkpoint")


@router.get("/orgs/{org}/audit/consistency")
@requires("audit.checkpoints")
def consistency_proof(request, org: str, q: Query[ConsistencyQuery]):
    """An RFC 9162 consistency proof from tree size ``from`` to ``to``, and the signed checkpoint at ``to`` if any."""
    chain_id = str(request.access.organisation.id)
    latest = Checkpoint.objects.filter(chain_id=chain_id).order_by("-tree_size").first()
    to_size = q.to_size if q.to_size is not None else (latest.tree_size if latest else 0)
    if q.from_size > to_size:
        raise ValidationError({"from": ValidationError("Give a tree size no larger than `to`.", code="out_of_range")})
    proof = export.consistency(chain_id, q.from_size, to_size)
    if proof is None:
        raise ValidationError({"to": ValidationError("The log does not have that many events.", code="out_of_range")})
    signed = Checkpoint.objects.filter(chain_id=chain_id, tree_size=to_size).first()
    return {**proof, "checkpoint": record_of(signed) if signed else None}


class WitnessIn(Schema):
    kind: str = Field(..., description="webhook or email")
    url: Text = Field("", max_length=500)
    email: Text = Field("", max_length=254)


class WitnessOut(Schema):
    id: uuid.UUID
    kind: str
    url: str
    email: str
    delivered_size: int
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_error: str
    created_at: datetime.datetime
    secret: str | None = Field(None, description="the webhook's HMAC secret: shown in this answer only")


def witness_out(witness: AuditWitness, secret: str | None = None) -> dict:
    """Never the stored secret: only the one just made, in the answer that registers it."""
    fields = ("id", "kind", "url", "email", "delivered_size", "attempts", "next_attempt_at", "last_error", "created_at")
    return {**{name: getattr(witness, name) for name in fields}, "secret": secret}


@router.get("/orgs/{org}/audit/witnesses", response=list[WitnessOut])
@requires("audit.witnesses")
def list_witnesses(request, org: str):
    return [witness_out(w) for w in AuditWitness.objects.filter(organisation_id=request.access.organisation.id)]


@router.post("/orgs/{org}/audit/witnesses", response={201: WitnessOut})
@requires("audit.witnesses")
def add_witness(request, org: str, payload: WitnessIn):
    """Every new signed checkpoint goes to this webhook (signed with the secret in this answer) or address."""
    witness, secret = witnesses.add(request.access.organisation, kind=payload.kind, url=payload.url,
                                    email=payload.email)
    return Status(201, witness_out(witness, secret))


@router.delete("/orgs/{org}/audit/witnesses/{witness_id}", response={204: None})
@requires("audit.witnesses")
def remove_witness(request, org: str, witness_id: uuid.UUID):
    witnesses.remove(request.path_objects["witness_id"])
    return Status(204, None)


@public_router.get("/audit/public-keys", auth=None)
@public
def public_keys(request):
    """The Ed25519 keys that sign checkpoints. Pin one, and pass it to ``bastion-verify --public-key``."""
    return {"keys": [{"key_id": key_id, "ed25519": base64.b64encode(raw).decode()}
                     for key_id, raw in signing.public_keys().items()]}
