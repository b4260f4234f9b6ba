"""The trust document behind ``/trust`` and ``/trust.json``: every control with its framework ids,
its checks' last results and evidence hashes, the operator's note; failing controls included."""

from __future__ import annotations

from typing import Any

from bastion.audit.format import format_time
from bastion.trust import catalogue, runs, signature, supply_chain
from bastion.trust.checks import FAIL, NOT_APPLICABLE, PASS, UNKNOWN
from bastion.trust.models import ControlNote

DOCUMENT_FORMAT = "bastion-trust-v1"


def _control_status(results: list[dict[str, Any]], control: catalogue.Control) -> str:
    if not control.checks:
        return "operator_evidence"
    states = [r["result"] for r in results]
    if any(s == FAIL for s in states):
        return FAIL
    if any(s == UNKNOWN for s in states) or len(states) < len(control.checks):
        return UNKNOWN
    if all(s == NOT_APPLICABLE for s in states):
        return NOT_APPLICABLE
    return PASS


def document(base_url: str = "") -> dict[str, Any]:
    book = catalogue.load()
    latest = runs.latest_results()
    notes = dict(ControlNote.objects.values_list("control_id", "note"))
    controls = []
    for control in book.controls:
        results = [{"check": r.check_id, "version": r.version, "result": r.result, "details": r.details,
                    "run_id": str(r.run_id), "checked_at": format_time(r.checked_at),
                    "evidence_sha256": r.evidence_sha256}
                   for r in (latest.get(check_id) for check_id in control.checks) if r is not None]
        controls.append({
            "urn": control.urn, "ref_id": control.ref_id, "name": control.name, "description": control.description,
            "url": f"{base_url}/trust#{control.ref_id}", "soc2": list(control.soc2), "iso27001": list(control.iso27001),
            "asvs": [r["ref_id"] for r in book.asvs_for(control.ref_id) if r["status"] == "met"], "code": list(control.code),
            "status": _control_status(results, control), "checks": results, "note": notes.get(control.ref_id, ""),
            "reason": control.reason, "operator_evidence": control.evidence,
        })
    asvs = {status: sum(1 for r in book.asvs if r["status"] == status) for status in ("met", "not_applicable",
                                                                                       "not_yet_met")}
    runs_seen = sorted({r["run_id"] for c in controls for r in c["checks"]})
    asvs_l2 = {"standard": "OWASP ASVS 5.0.0", "total": len(book.asvs), "counts": asvs, "requirements": list(book.asvs)}
    return {"format": DOCUMENT_FORMAT, "controls": controls, "asvs_l2": asvs_l2,
            "runs": runs_seen, "supply_chain": supply_chain.published(base_url)}


def envelope(base_url: str = "") -> dict[str, Any]:
    """The signed form of ``/trust.json``: a detached Ed25519 signature over the canonical JSON
    (RFC 8785) of ``document``, and the public key it verifies with (also at ``/trust/key``)."""
    body = document(base_url)
    key_id, value = signature.sign(body)
    _, public = signature.public_key()
    return {"document": body, "signature": {"algorithm": "Ed25519", "key_id": key_id, "value": value,
                                            "canonicalization": "RFC 8785"},
            "public_key": {"key_id": key_id, "ed25519_raw_base64": public, "url": f"{base_url}/trust/key"}}
