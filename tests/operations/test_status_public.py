"""The public side: /status renders for anyone with the usual headers and strict CSP and no tenant
data; /status.json validates against its JSON Schema; the Atom feed is valid Atom."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema
import pytest
from django.test import Client
from django.utils import timezone
from lxml import etree

from bastion.operations import history, incidents

pytestmark = pytest.mark.django_db

SCHEMA = json.loads((Path(__file__).with_name("status_summary.schema.json")).read_text())
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def incident_and_maintenance(db):
    history.run()
    incident = incidents.open_incident(title="Slow exports", impact="minor", status="investigating",
                                       body="Exports take longer than usual.", components=["object_storage"])
    incidents.post_update(incident, status="identified", body="A storage node is slow.")
    now = timezone.now()
    maintenance = incidents.schedule_maintenance(
        title="Database upgrade", body="PostgreSQL 17", components=["database"],
        starts_at=now + datetime.timedelta(days=1), ends_at=now + datetime.timedelta(days=1, hours=1))
    return incident, maintenance


def test_status_json_validates_against_its_schema(incident_and_maintenance, world):
    incident, maintenance = incident_and_maintenance
    response = Client().get("/status.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = response.json()
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert data["status"]["indicator"] == "minor"
    assert [i["id"] for i in data["incidents"]] == [str(incident.id)]
    assert [u["status"] for u in data["incidents"][0]["incident_updates"]] == ["identified", "investigating"]
    assert [m["id"] for m in data["scheduled_maintenances"]] == [str(maintenance.id)]
    # Public: no tenant's name, no probe detail (hosts, errors), no staff identity.
    body = response.content.decode()
    for secret in ("acme", "globex", "Acme", "sqlite", "FileSystemStorage", "operator@"):
        assert secret not in body


def test_the_schema_rejects_a_wrong_summary():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"page": {}, "status": {"indicator": "fine"}, "components": [], "incidents": [],
                             "scheduled_maintenances": []}, SCHEMA)


def test_the_atom_feed_is_valid_atom(incident_and_maintenance):
    incident, _ = incident_and_maintenance
    response = Client().get("/status/feed.atom")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None and feed.find(f"{ATOM}{required}").text
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    for required in ("id", "title", "updated"):
        assert entry.find(f"{ATOM}{required}").text
    assert entry.find(f"{ATOM}id").text == f"urn:uuid:{incident.id}"
    assert "A storage node is slow." in entry.find(f"{ATOM}summary").text
    datetime.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)  # RFC 3339


def test_the_page_renders_for_anyone_with_strict_headers(incident_and_maintenance, world):
    for client in (Client(), Client()):
        response = client.get("/status")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Slow exports" in html and "Database upgrade" in html and 'data-component="object_storage"' in html
        assert "<style" not in html and "style=" not in html and "<script" not in html
        csp = response["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
        assert "acme" not in html.lower() and "globex" not in html.lower()
    assert Client().get(f"/status/incidents/{incident_and_maintenance[0].id}").status_code == 200
    assert Client().get("/status/incidents/00000000-0000-0000-0000-000000000001").status_code == 404
    assert Client().post("/status.json").status_code == 405


def test_status_json_publishes_the_last_restore_drills_measured_figures(world):
    from bastion.backups.models import Backup, Drill

    now = timezone.now()
    backup = Backup.objects.create(engine="sqlite", type="snapshot", started_at=now - datetime.timedelta(minutes=30),
                                   finished_at=now - datetime.timedelta(minutes=29), status="ok",
                                   repository="/srv/secret-backup-place")
    Drill.objects.create(backup=backup, started_at=now - datetime.timedelta(minutes=5), finished_at=now, ok=True,
                         rto_seconds=12.5, rpo_seconds=41.0, events_lost=3)
    from bastion.operations import summary

    summary.forget()
    data = Client().get("/status.json").json()
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert data["backups"]["last_drill_ok"] is True
    assert (data["backups"]["rto_seconds"], data["backups"]["rpo_seconds"], data["backups"]["events_lost"]) == (
        12.5, 41.0, 3)
    assert "secret-backup-place" not in Client().get("/status.json").content.decode()  # where backups live: not public


def test_a_failed_backup_degrades_the_backups_component(world):
    from bastion.backups.models import Backup
    from bastion.backups.status_probes import BackupsFailing, check

    assert check().startswith("no backup yet")
    now = timezone.now()
    Backup.objects.create(engine="sqlite", type="snapshot", started_at=now - datetime.timedelta(hours=3),
                          finished_at=now - datetime.timedelta(hours=3), status="ok", repository="/backups")
    with pytest.raises(BackupsFailing, match="no good backup"):
        check()
    Backup.objects.create(engine="sqlite", type="snapshot", started_at=now, finished_at=now, status="failed",
                          repository="s3://offsite", error="unreachable")
    with pytest.raises(BackupsFailing, match="newest backup failed"):
        check()
    [component] = [c for c in history.run().states.items() if c[0] == "backups"]
    assert component[1] == "degraded"
