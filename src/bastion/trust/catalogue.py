"""The control catalogue: YAML files in ``catalogue/``, one per framework mapping (the shape of CISO
Assistant's libraries: ``urn``, ``ref_id``, ``name``, ``description``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DIRECTORY = Path(__file__).parent / "catalogue"


@dataclass(frozen=True)
class Control:
    urn: str
    ref_id: str
    name: str
    description: str
    soc2: tuple[str, ...]
    iso27001: tuple[str, ...]
    code: tuple[str, ...]
    checks: tuple[str, ...]
    reason: str  # why software cannot prove it (only without checks)
    evidence: str  # the kind of evidence an operator uploads instead


@dataclass(frozen=True)
class Catalogue:
    controls: tuple[Control, ...]
    sentences: tuple[dict[str, Any], ...]
    soc2: dict[str, dict[str, Any]]
    iso27001: dict[str, dict[str, Any]]
    asvs: tuple[dict[str, Any], ...]

    def control(self, ref_id: str) -> Control:
        return next(c for c in self.controls if c.ref_id == ref_id)

    def asvs_for(self, ref_id: str) -> list[dict[str, Any]]:
        return [r for r in self.asvs if ref_id in r.get("controls", [])]


def _read(name: str) -> dict[str, Any]:
    return yaml.safe_load((DIRECTORY / name).read_text())


@functools.cache
def load() -> Catalogue:
    controls = tuple(
        Control(urn=c["urn"], ref_id=c["ref_id"], name=c["name"], description=c["description"],
                soc2=tuple(c.get("soc2", [])), iso27001=tuple(c.get("iso27001", [])), code=tuple(c.get("code", [])),
                checks=tuple(c.get("checks", [])), reason=c.get("reason", ""), evidence=c.get("evidence", ""))
        for c in _read("controls.yaml")["controls"])
    return Catalogue(
        controls=controls, sentences=tuple(_read("seeds.yaml")["sentences"]),
        soc2={r["ref_id"]: r for r in _read("soc2.yaml")["requirements"]},
        iso27001={r["ref_id"]: r for r in _read("iso27001.yaml")["requirements"]},
        asvs=tuple(_read("asvs.yaml")["requirements"]),
    )
