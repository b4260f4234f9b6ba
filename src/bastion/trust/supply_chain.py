"""What the build found about its own supply chain, published with the trust page: the CycloneDX
SBOM of the locked dependencies (served as is, its SHA-256 in ``/trust.json``) and the dependency
audit's status. Both are files the build writes (``scripts/supply_chain.py``) into
``BASTION_SUPPLY_CHAIN_DIR``; a missing or unreadable file is published as missing, and an audit
that reached no vulnerability service stays *unknown* here too, never a pass."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.conf import settings

SBOM_NAME = "sbom.cdx.json"
AUDIT_NAME = "dependency-audit.json"


def sbom_path() -> Path:
    return Path(settings.BASTION_SUPPLY_CHAIN_DIR) / SBOM_NAME


def _read_json(path: Path) -> tuple[bytes, Any] | None:
    try:
        raw = path.read_bytes()
        return raw, json.loads(raw)
    except (OSError, ValueError):
        return None


def published(base_url: str = "") -> dict[str, Any]:
    sbom = _read_json(sbom_path())
    audit = _read_json(Path(settings.BASTION_SUPPLY_CHAIN_DIR) / AUDIT_NAME)
    result: dict[str, Any] = {"sbom": None, "dependency_audit": None}
    if sbom is not None and isinstance(sbom[1], dict) and sbom[1].get("bomFormat") == "CycloneDX":
        raw, document = sbom
        result["sbom"] = {"url": f"{base_url}/trust/{SBOM_NAME}", "format": "CycloneDX",
                          "spec_version": document.get("specVersion"), "components": len(document.get("components", [])),
                          "sha256": hashlib.sha256(raw).hexdigest()}
    if audit is not None and isinstance(audit[1], dict):
        status = audit[1].get("status")
        result["dependency_audit"] = {
            "status": status if status in ("pass", "fail") else "unknown",
            "checked_on": audit[1].get("checked_on"), "reason": audit[1].get("reason", ""),
            "vulnerabilities": [{k: v.get(k) for k in ("package", "version", "id", "first_seen", "patch_by")}
                                for v in audit[1].get("vulnerabilities", [])],
        }
    return result
