"""CSV import (all or nothing, with a row report) and evidence upload, download and delete."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bastion.records.models import EmissionRecord, EvidenceFile
from bastion.tenancy import context

pytestmark = pytest.mark.django_db

HEADER = "scope,category,activity,quantity,unit,period_start,period_end\n"
PDF = b"%PDF-1.4\n% a tiny invoice\n%%EOF\n"


def url(name, org, **kwargs):
    return reverse(f"console:{name}", kwargs={"org": org.slug, "project_id": org.project.id, **kwargs})


def csv_file(body: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("records.csv", (HEADER + body).encode(), content_type="text/csv")


def count_emissions(org) -> int:
    with context.tenant_context(org.organisation.id):
        return EmissionRecord.objects.filter(project=org.project).count()


def test_import_with_one_bad_row_imports_nothing_and_reports_the_row(client_for, world):
    acme = world.acme
    before = count_emissions(acme)
    body = (
        "1,stationary_combustion,Boiler gas,100,kWh,2025-05-01,2025-05-31\n"
        "2,purchased_electricity,Office power,abc,kWh,2025-05-01,2025-05-31\n"
    )
    response = client_for(acme.users["editor"]).post(url("import_records", acme), {"kind": "emissions", "file": csv_file(body)})
    assert response.status_code == 200
    assert response.context["report"].errors == [
        {"row": 3, "field": "quantity", "code": "invalid_number", "message": "Use a number, e.g. 1250.5."}
    ]
    assert b"Nothing was imported" in response.content
    assert b"<td class=\"number\">3</td><td>quantity</td><td>Use a number, e.g. 1250.5.</td>" in response.content
    assert count_emissions(acme) == before


def test_import_of_good_rows_creates_them(client_for, world):
    acme = world.acme
    before = count_emissions(acme)
    body = "1,stationary_combustion,Imported gas,100,kWh,2025-05-01,2025-05-31\n"
    response = client_for(acme.users["editor"]).post(url("import_records", acme), {"kind": "emissions", "file": csv_file(body)})
    assert response.status_code == 302 and response.url == url("project", acme)
    assert count_emissions(acme) == before + 1


def test_an_unreadable_file_is_a_form_error(client_for, world):
    acme = world.acme
    upload = SimpleUploadedFile("records.csv", b"meter,site\n", content_type="text/csv")
    response = client_for(acme.users["editor"]).post(url("import_records", acme), {"kind": "energy", "file": upload})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]


def test_viewer_may_not_import(client_for, world):
    acme = world.acme
    body = "1,stationary_combustion,Imported gas,100,kWh,2025-05-01,2025-05-31\n"
    response = client_for(acme.users["viewer"]).post(url("import_records", acme), {"kind": "emissions", "file": csv_file(body)})
    assert response.status_code == 403


def test_evidence_upload_then_download_returns_the_same_bytes(client_for, world):
    acme = world.acme
    client = client_for(acme.users["editor"])
    upload = SimpleUploadedFile("meter-reading.pdf", PDF, content_type="application/pdf")
    response = client.post(url("evidence_upload", acme), {"file": upload, "emission_id": str(acme.emission.id)})
    assert response.status_code == 302 and response.url == url("emission", acme, emission_id=acme.emission.id)
    with context.tenant_context(acme.organisation.id):
        stored = EvidenceFile.objects.get(filename="meter-reading.pdf")
    assert stored.emission_record_id == acme.emission.id
    assert b"meter-reading.pdf" in client.get(response.url).content

    download = client.get(url("evidence_download", acme, evidence_id=stored.id))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="meter-reading.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"


def test_evidence_whose_content_is_not_its_type_is_refused(client_for, world):
    acme = world.acme
    client = client_for(acme.users["editor"])
    upload = SimpleUploadedFile("fake.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = client.post(url("evidence_upload", acme), {"file": upload}, follow=True)
    assert b"The file&#x27;s content is not application/pdf." in response.content
    with context.tenant_context(acme.organisation.id):
        assert not EvidenceFile.objects.filter(filename="fake.pdf").exists()


def test_evidence_delete_needs_upload_permission(client_for, world):
    acme = world.acme
    target = url("evidence_delete", acme, evidence_id=acme.evidence.id)
    assert client_for(acme.users["viewer"]).post(target).status_code == 403
    assert client_for(acme.users["editor"]).post(target).status_code == 302
    with context.tenant_context(acme.organisation.id):
        assert not EvidenceFile.objects.filter(id=acme.evidence.id).exists()
