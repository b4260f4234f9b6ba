"""``/trust`` (HTML), ``/trust.json`` (signed) and ``/trust/key`` (the public key, PEM): public,
generated from the last run of every check; a failing control is shown failing, never hidden."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from bastion.audit import signing
from bastion.tenancy.access import public
from bastion.trust import documents, publication, supply_chain


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@public
@require_safe
def trust_page(request):
    body = publication.document(_base_url(request))
    counts: dict[str, int] = {}
    for control in body["controls"]:
        counts[control["status"]] = counts.get(control["status"], 0) + 1
    return render(request, "trust/trust.html", {"document": body, "counts": counts,
                                                "nda_documents": documents.offered(), "nda_text": documents.NDA_TEXT})


@public
@require_safe
def trust_json(request):
    response = HttpResponse(json.dumps(publication.envelope(_base_url(request)), indent=2),
                            content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"  # public, signed; read by vendor-risk tools
    return response


@public
@require_safe
def trust_key(request):
    key: Ed25519PublicKey = signing.signing_key().public_key()
    pem = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["X-Bastion-Key-Id"] = signing.current_key_id()
    return response


@public
@require_safe
def trust_sbom(request):
    """The build's CycloneDX SBOM, byte for byte (its SHA-256 is in the signed ``/trust.json``)."""
    try:
        raw = supply_chain.sbom_path().read_bytes()
    except OSError:
        return JsonResponse({"error": "not_found", "detail": "this deployment publishes no SBOM"}, status=404)
    response = HttpResponse(raw, content_type="application/vnd.cyclonedx+json")
    response["Access-Control-Allow-Origin"] = "*"
    return response
