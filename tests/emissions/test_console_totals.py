"""The console's emissions pages: totals and SVG charts beside their tables on project and workspace
pages, choosing a record's factor, exports as audited artifacts; the outsider gets 404."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from bastion.audit.models import AuditEvent
from bastion.crypto.models import Artifact
from bastion.emissions import calculation
from bastion.tenancy import context


def _project_url(ns, suffix=""):
    return f"/o/{ns.slug}/p/{ns.project.id}/{suffix}"


def test_project_page_shows_totals_and_charts_and_exports_what_the_filter_shows(world, client_for):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        calculation.assign(acme.emissions[0], "desnz/natural_gas_kwh_gross@2024")  # 1200.5 kWh
        calculation.assign(acme.emissions[1], "desnz/uk_electricity_kwh@2024")  # 5400 kWh
    client = client_for(acme.users["viewer"])
    page = client.get(_project_url(acme, "?scope=2"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<script" not in html.split("</header>")[-1]
    assert 'id="totals-by-year"' in html and "1,118.07" in html  # 5400 × 0.20705
    assert "219.57" not in html  # the gas record is filtered out

    export = client.get(_project_url(acme, "emissions/export/?scope=2&what=records&format=xlsx"))
    assert export.status_code == 200, export.content[:3000]
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1 and Decimal(str(rows[0][8])) == Decimal("1118.07")
    totals_csv = client.get(_project_url(acme, "emissions/export/?what=totals&format=csv"))
    assert b"total,all,1337.641450" in b"".join(totals_csv.streaming_content)
    with context.tenant_context(acme.organisation.id):
        assert AuditEvent.objects.filter(action="emissions.exported").count() == 2
        assert AuditEvent.objects.filter(action="artifact.consumed").count() >= 2
        assert not Artifact.objects.filter(purpose="export").exists()  # handed over, then deleted

    assert client.get(_project_url(acme, "emissions/export/?what=nothing")).status_code == 404
    outsider = client_for(world.globex.users["owner"])
    assert outsider.get(_project_url(acme, "emissions/export/?what=records&format=csv")).status_code == 404
    assert outsider.get(f"/o/{acme.slug}/w/{acme.workspace.id}/emissions/export/").status_code == 404


def test_an_editor_chooses_a_factor_on_the_record_page(world, client_for):
    acme = world.acme
    client = client_for(acme.users["editor"])
    record_url = _project_url(acme, f"emissions/{acme.emission.id}/")
    page = client.get(record_url).content.decode()
    assert "desnz/natural_gas_kwh_gross@2024" in page
    answer = client.post(record_url + "factor/", {"factor": "desnz/natural_gas_kwh_gross@2023"})
    assert answer.status_code == 302
    page = client.get(record_url).content.decode()
    assert "219.607465" in page  # 1200.5 kWh × 0.18293 (2023)
    viewer = client_for(acme.users["viewer"])
    assert viewer.post(record_url + "factor/", {"factor": "desnz/natural_gas_kwh_gross@2024"}).status_code == 403


def test_workspace_page_totals_cover_its_projects(world, client_for):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        calculation.assign(acme.emissions[1], "desnz/uk_electricity_kwh@2024")
    page = client_for(acme.users["viewer"]).get(f"/o/{acme.slug}/w/{acme.workspace.id}/").content.decode()
    assert "Emissions across the workspace" in page and "1,118.07" in page
