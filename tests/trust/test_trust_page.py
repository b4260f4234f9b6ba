"""``/trust`` shows every control with its last result (failing ones failing, with the operator's
note); ``/trust.json`` verifies with the key published at ``/trust/key``, offline, and one changed
byte fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import Client

from bastion.audit.models import AuditEvent
from bastion.db.platform import PLATFORM_ID
from bastion.db.rls import setting
from bastion.trust import catalogue, notes, offline, runs
from bastion.trust.audit_actions import CONTROL_NOTE_SET


@pytest.fixture
def published(world):
    runs.run_all()
    return Client()


def test_the_page_shows_every_control_and_a_failing_one_failing_with_its_note(published):
    notes.set_note("BST-BCK-01", "Backups move to a new repository this week.")
    with setting("bastion.scope", "platform"):
        event = AuditEvent.objects.filter(chain_id=PLATFORM_ID, action=CONTROL_NOTE_SET).get()
    assert event.resource_id == "BST-BCK-01"
    with pytest.raises(notes.UnknownControl):
        notes.set_note("BST-NOPE-01", "x")
    page = published.get("/trust")
    assert page.status_code == 200
    html = page.content.decode()
    for control in catalogue.load().controls:
        assert f'id="{control.ref_id}"' in html
    assert 'id="BST-BCK-01" data-status="fail"' in html  # no backup has run in the test database
    assert "Backups move to a new repository this week." in html
    assert "Not provable by software" in html and "Training completion records" in html
    assert "not yet met" in html


def test_the_asvs_table_is_counted_whole_on_the_page_and_in_the_json(db):
    rows = catalogue.load().asvs
    counts = {status: sum(1 for row in rows if row["status"] == status)
              for status in ("met", "not_applicable", "not_yet_met")}
    assert sum(counts.values()) == len(rows) == 253  # every level 1 and 2 requirement, none left unassessed
    html = " ".join(Client().get("/trust").content.decode().split())
    assert (f"OWASP ASVS 5.0.0 level 2</a>, all 253 requirements of levels 1 and 2: {counts['met']} met, "
            f"{counts['not_applicable']} not applicable, {counts['not_yet_met']} not yet met.") in html
    assert "assessed" not in html
    assert html.count('<tr id="asvs-') == 253
    document = json.loads(Client().get("/trust.json").content)["document"]
    asvs = document["asvs_l2"]
    assert asvs["total"] == 253 and asvs["counts"] == counts and len(asvs["requirements"]) == 253
    iam = next(c for c in document["controls"] if c["ref_id"] == "BST-IAM-01")
    met = {row["ref_id"] for row in rows if row["status"] == "met"}
    assert iam["asvs"] and set(iam["asvs"]) <= met  # a control lists only the requirements it meets


def test_trust_json_verifies_with_the_published_key_and_one_changed_byte_fails(published, tmp_path):
    text = published.get("/trust.json").content.decode()
    envelope = json.loads(text)
    key = offline.load_key(published.get("/trust/key").content.decode())
    assert offline.verify(envelope, key)[0]
    bck = next(c for c in envelope["document"]["controls"] if c["ref_id"] == "BST-BCK-01")
    assert bck["status"] == "fail" and bck["soc2"] == ["A1.2", "A1.3"] and bck["checks"][0]["evidence_sha256"]
    assert bck["url"].endswith("/trust#BST-BCK-01")
    at = text.index('"fail"')
    changed = text[:at + 1] + "p" + text[at + 2:]  # "fail" → "pail": one byte
    assert offline.verify(json.loads(changed), key) == (False, "the signature does not match the document and key")

    (tmp_path / "trust.json").write_text(text)
    (tmp_path / "changed.json").write_text(changed)
    (tmp_path / "key.pem").write_bytes(published.get("/trust/key").content)
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO", "DATABASE"))}

    def verifier(document: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bastion.trust.offline", str(tmp_path / document),
                               "--key", str(tmp_path / "key.pem")], capture_output=True, text=True, env=environment)

    good = verifier("trust.json")
    assert good.returncode == 0 and good.stdout.startswith("verified:") and "BST-BCK-01" in good.stdout
    bad = verifier("changed.json")
    assert bad.returncode == 1 and "does not match" in bad.stdout


def test_the_offline_verifier_refuses_another_key(published):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    envelope = published.get("/trust.json").json()
    ok, message = offline.verify(envelope, Ed25519PrivateKey.generate().public_key())
    assert not ok and "not the key given" in message


def test_the_trust_page_and_json_are_public_and_carry_the_security_headers(published):
    for url in ("/trust", "/trust.json", "/trust/key"):
        response = published.get(url)
        assert response.status_code == 200
        assert "default-src" in response["Content-Security-Policy"]
    assert published.post("/trust").status_code == 405


def test_the_sbom_and_the_dependency_audit_are_published_as_the_build_left_them(published, settings, tmp_path):
    import hashlib

    settings.BASTION_SUPPLY_CHAIN_DIR = tmp_path
    absent = published.get("/trust.json").json()["document"]["supply_chain"]
    assert absent == {"sbom": None, "dependency_audit": None}
    refused = published.get("/trust/sbom.cdx.json")
    assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    assert b"not published by this deployment" in published.get("/trust").content

    sbom = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        {"type": "library", "name": "django", "version": "5.2"}, {"type": "library", "name": "cryptography"}]}).encode()
    (tmp_path / "sbom.cdx.json").write_bytes(sbom)
    (tmp_path / "dependency-audit.json").write_text(json.dumps({
        "status": "unknown", "checked_on": "2026-12-01", "reason": "no vulnerability service answered",
        "vulnerabilities": []}))
    envelope = json.loads(published.get("/trust.json").content)
    chain = envelope["document"]["supply_chain"]
    assert chain["sbom"]["sha256"] == hashlib.sha256(sbom).hexdigest() and chain["sbom"]["components"] == 2
    assert chain["sbom"]["url"].endswith("/trust/sbom.cdx.json")
    assert chain["dependency_audit"]["status"] == "unknown"  # never shown as a pass
    key = offline.load_key(published.get("/trust/key").content.decode())
    assert offline.verify(envelope, key)[0]  # the digest is under the signature
    served = published.get("/trust/sbom.cdx.json")
    assert served.status_code == 200 and served.content == sbom
    assert served["Content-Type"] == "application/vnd.cyclonedx+json"
    page = published.get("/trust").content.decode()
    assert hashlib.sha256(sbom).hexdigest() in page and "<strong>unknown</strong>" in page

    (tmp_path / "dependency-audit.json").write_text("{not json")  # a broken file is missing, never a 500
    assert published.get("/trust.json").json()["document"]["supply_chain"]["dependency_audit"] is None
