"""Records through the API: CRUD, pagination, filters, bad input (always 4xx with fields), imports, evidence."""

from __future__ import annotations

import json

import pytest

from bastion.records.models import EmissionRecord, EnergyRecord
from bastion.tenancy import context
from tests.sign_in import signed_in_with_second_factor

VALID_EMISSION = {
    "scope": 2, "category": "purchased_electricity", "activity": "Warehouse electricity", "quantity": "1234.5",
    "unit": "kWh", "period_start": "2025-04-01", "period_end": "2025-04-30", "site": "Leeds",
}


def _url(ns, suffix: str = "") -> str:
    return f"/api/v1/orgs/{ns.slug}/projects/{ns.project.id}{suffix}"


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _patch(client, url, body):
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body["error"]) >= {"code", "message", "fields"}
    return body["error"]


def test_editor_creates_reads_updates_and_deletes_an_emission(world, client_for):
    client = client_for(world.acme.users["editor"])
    created = _post(client, _url(world.acme, "/emissions"), VALID_EMISSION)
    assert created.status_code == 201, created.content
    record_id = created.json()["id"]
    assert created.json()["quantity"] == "1234.500000"

    fetched = client.get(_url(world.acme, f"/emissions/{record_id}"))
    assert fetched.json()["activity"] == "Warehouse electricity"

    updated = _patch(client, _url(world.acme, f"/emissions/{record_id}"), {"quantity": "99", "notes": "meter re-read"})
    assert updated.status_code == 200 and updated.json()["quantity"] == "99.000000"

    assert client.delete(_url(world.acme, f"/emissions/{record_id}")).status_code == 204
    assert client.get(_url(world.acme, f"/emissions/{record_id}")).status_code == 404
    # The outsider never saw any of it.
    outsider = client_for(world.globex.users["owner"])
    assert outsider.get(_url(world.acme, "/emissions")).status_code == 404


def test_list_is_paginated_and_filtered_by_period_and_scope(world, client_for):
    client = client_for(world.acme.users["viewer"])
    page = client.get(_url(world.acme, "/emissions?page_size=2")).json()
    assert (page["count"], page["pages"], len(page["items"])) == (3, 2, 2)
    second = client.get(_url(world.acme, "/emissions?page_size=2&page=2")).json()
    assert len(second["items"]) == 1
    ids = {item["id"] for item in page["items"] + second["items"]}
    assert ids == {str(r.id) for r in world.acme.emissions}

    scope2 = client.get(_url(world.acme, "/emissions?scope=2")).json()
    assert [item["scope"] for item in scope2["items"]] == [2]
    february = client.get(_url(world.acme, "/emissions?period_from=2025-02-01&period_to=2025-02-28")).json()
    assert [item["activity"] for item in february["items"]] == ["Office electricity"]
    assert client.get(_url(world.acme, "/energy?period_from=2025-03-01")).json()["count"] == 0


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"scope": 4}, "scope", "less_than_equal"),
        ({"scope": "two"}, "scope", "int_parsing"),
        ({"quantity": "-1"}, "quantity", "greater_than_equal"),
        ({"quantity": "lots"}, "quantity", "decimal_parsing"),
        ({"unit": "furlongs"}, "unit", "invalid_choice"),
        ({"category": "c06_business_travel"}, "category", "category_scope_mismatch"),
        ({"period_end": "2025-03-01"}, "period_end", "period_reversed"),
        ({"period_end": "2035-04-30"}, "period_end", "period_too_long"),
        ({"period_start": "2025-02-30"}, "period_start", "date_from_datetime_parsing"),
        ({"supplier_id": "00000000-0000-4000-8000-000000000000"}, "supplier_id", "not_found"),
        ({"activity": ""}, "activity", "string_too_short"),
    ],
)
def test_bad_input_is_a_422_with_field_errors(world, client_for, change, field, code):
    client = client_for(world.acme.users["editor"])
    error = _error(_post(client, _url(world.acme, "/emissions"), {**VALID_EMISSION, **change}), 422)
    assert field in error["fields"], error
    assert any(e["code"].startswith(code) for e in error["fields"][field]), error
    with context.tenant_context(world.acme.organisation.id):
        assert EmissionRecord.objects.count() == 3


def test_another_projects_supplier_can_not_be_referenced(world, client_for):
    client = client_for(world.acme.users["editor"])
    foreign = {**VALID_EMISSION, "scope": 3, "category": "c04_upstream_transport", "supplier_id": str(world.globex.supplier.id)}
    error = _error(_post(client, _url(world.acme, "/emissions"), foreign), 422)
    assert error["fields"]["supplier_id"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/emissions/not-a-uuid", 404),
        ("/emissions/00000000-0000-4000-8000-000000000000", 404),
        ("/emissions?page=0", 422),
        ("/emissions?page_size=1000", 422),
        ("/emissions?period_from=yesterday", 422),
        ("/emissions?period_from=2025-05-01&period_to=2025-01-01", 422),
    ],
)
def test_bad_ids_and_queries_are_4xx(world, client_for, url, status):
    response = client_for(world.acme.users["viewer"]).get(_url(world.acme, url))
    _error(response, status)


def test_malformed_json_is_a_4xx(world, client_for):
    client = client_for(world.acme.users["editor"])
    response = client.post(_url(world.acme, "/emissions"), data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_session_api_calls_need_the_csrf_token(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    signed_in_with_second_factor(client, world.acme.users["editor"])
    response = _post(client, _url(world.acme, "/emissions"), VALID_EMISSION)
    assert _error(response, 403)["code"] == "csrf_failed"


CSV_HEADER = "scope,category,activity,quantity,unit,period_start,period_end,site,supplier,notes\n"


def _import(client, ns, kind: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("records.csv", content, "text/csv")
    return client.post(_url(ns, "/imports"), data={"kind": kind, "file": upload})


def test_csv_import_all_rows_valid(world, client_for):
    content = (CSV_HEADER + "1,mobile_combustion,Van diesel,120,L,2025-05-01,2025-05-31,Leeds,,\n"
               "3,c04_upstream_transport,Freight,500,tonne_km,2025-05-01,2025-05-31,,Acme Corp Logistics,\n").encode()
    response = _import(client_for(world.acme.users["editor"]), world.acme, "emissions", content)
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2
    with context.tenant_context(world.acme.organisation.id):
        assert EmissionRecord.objects.count() == 5
        assert EmissionRecord.objects.get(activity="Freight").supplier_id == world.acme.supplier.id


def test_csv_import_with_bad_rows_imports_nothing_and_reports_each(world, client_for):
    content = (CSV_HEADER
               + "1,mobile_combustion,Van diesel,120,L,2025-05-01,2025-05-31,Leeds,,\n"
               + "4,mobile_combustion,Bad scope,1,L,2025-05-01,2025-05-31,,,\n"
               + "1,mobile_combustion,Bad dates,1,L,2025-05-31,2025-05-01,,,\n"
               + "3,c04_upstream_transport,Unknown supplier,1,t,2025-05-01,2025-05-31,,Globex Ltd Logistics,\n"
               + "1,mobile_combustion,Bad number,1.2.3,L,2025-05-01,2025-05-31,,,\n").encode()
    error = _error(_import(client_for(world.acme.users["editor"]), world.acme, "emissions", content), 422)
    rows = {(e["row"], e["field"]) for e in error["report"]["errors"]}
    assert {(3, "scope"), (4, "period_end"), (5, "supplier"), (6, "quantity")} <= rows
    assert not any(row == 2 for row, _ in rows)
    with context.tenant_context(world.acme.organisation.id):
        assert EmissionRecord.objects.count() == 3


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"\xff\xfe\x00garbage", "invalid_encoding"),
        (b"scope,activity\n1,x\n", "invalid_header"),
        (CSV_HEADER.encode(), "empty_file"),
        (CSV_HEADER.encode() + b'1,"unterminated,x\n', "malformed_csv"),
    ],
)
def test_malformed_csv_is_refused_whole(world, client_for, content, code):
    error = _error(_import(client_for(world.acme.users["editor"]), world.acme, "emissions", content), 422)
    assert error["code"] == code


def test_energy_import(world, client_for):
    content = b"meter,site,kwh,source,period_start,period_end\nM-9,Leeds,100.5,solar,2025-06-01,2025-06-30\n"
    response = _import(client_for(world.acme.users["editor"]), world.acme, "energy", content)
    assert response.status_code == 201, response.content
    with context.tenant_context(world.acme.organisation.id):
        assert EnergyRecord.objects.filter(meter="M-9").count() == 1


def _upload(client, ns, name: str, content: bytes, content_type: str, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(_url(ns, "/evidence"), data={"file": SimpleUploadedFile(name, content, content_type), **fields})


def test_evidence_upload_and_download(world, client_for):
    client = client_for(world.acme.users["editor"])
    pdf = b"%PDF-1.7\n" + b"x" * 5000
    response = _upload(client, world.acme, "bill.pdf", pdf, "application/pdf", emission_id=str(world.acme.emission.id))
    assert response.status_code == 201, response.content
    item = response.json()
    assert item["size"] == len(pdf) and item["emission_record_id"] == str(world.acme.emission.id)
    download = client.get(_url(world.acme, f"/evidence/{item['id']}/download"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content", "content_type", "code"),
    [
        ("fake.pdf", b"MZ\x90\x00 this is an exe", "application/pdf", "type_mismatch"),
        ("page.html", b"<html><script>alert(1)</script>", "text/html", "unsupported_type"),
        ("empty.pdf", b"", "application/pdf", "empty_file"),
        ("photo.png", b"\xff\xd8\xff\xe0 jpeg bytes", "image/png", "type_mismatch"),
    ],
)
def test_evidence_type_is_checked_against_content(world, client_for, name, content, content_type, code):
    error = _error(_upload(client_for(world.acme.users["editor"]), world.acme, name, content, content_type), 422)
    assert error["fields"]["file"][0]["code"] == code


def test_oversized_evidence_is_refused(world, client_for, settings):
    settings.BASTION_EVIDENCE_MAX_BYTES = 1024
    error = _error(_upload(client_for(world.acme.users["editor"]), world.acme, "big.pdf", b"%PDF-" + b"0" * 2000, "application/pdf"), 422)
    assert error["fields"]["file"][0]["code"] == "file_too_large"


def test_evidence_can_not_be_attached_to_another_organisations_record(world, client_for):
    response = _upload(client_for(world.acme.users["editor"]), world.acme, "bill.pdf", b"%PDF-1.7\n", "application/pdf",
                       emission_id=str(world.globex.emission.id))
    assert response.status_code == 404


def test_openapi_is_public_and_lists_the_operations(db, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/orgs/{org}/projects/{project_id}/emissions" in paths


def test_healthz(client):
    assert client.get("/healthz").status_code == 200


def test_a_broken_multipart_body_is_a_400(world, client_for):
    client = client_for(world.acme.users["editor"])
    response = client.post(_url(world.acme, "/imports"), data=b"0", content_type="multipart/form-data")
    assert _error(response, 400)["code"] == "malformed_request"


def test_null_for_a_required_field_is_a_422_not_a_crash(world, client_for):
    client = client_for(world.acme.users["admin"])
    response = _patch(client, f"/api/v1/orgs/acme/workspaces/{world.acme.workspace.id}", {"name": None})
    assert "name" in _error(response, 422)["fields"]


def test_nul_characters_are_field_errors_on_every_backend(world, client_for):
    client = client_for(world.acme.users["editor"])
    error = _error(_post(client, _url(world.acme, "/emissions"), {**VALID_EMISSION, "activity": "gas\x00"}), 422)
    assert "activity" in error["fields"]
    assert "category" in _error(client.get(_url(world.acme, "/emissions?category=a%00b")), 422)["fields"]
    assert client.get("/api/v1/orgs/ac%00me/workspaces").status_code == 404


def test_upload_names_lose_paths_and_control_characters(world, client_for):
    response = _upload(client_for(world.acme.users["editor"]), world.acme, "../../etc/pass\x00wd\r\n.pdf",
                       b"%PDF-1.4\n", "application/pdf")
    assert response.status_code == 201, response.content
    assert "/" not in response.json()["filename"] and "\x00" not in response.json()["filename"]
