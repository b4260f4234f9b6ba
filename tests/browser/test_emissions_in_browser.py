"""An analyst in Chromium against ``bastion demo``: filters a project, reads its emissions totals and
charts, exports XLSX and finds the same figures in it with openpyxl; no CSP violation on the way."""

from __future__ import annotations

from decimal import Decimal

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.csp_watch import violations, watch


def _figure(text: str) -> Decimal:
    return Decimal(text.replace("kgCO2e", "").replace(",", "").strip())


def test_an_analyst_filters_sees_totals_and_charts_and_exports_the_same_figures(page_for, tmp_path):
    page = watch(page_for("viewer@acme.example"))
    page.get_by_role("link", name="UK Operations").first.click()
    page.get_by_role("link", name="FY2025 GHG inventory").first.click()
    page.select_option("select[name=scope]", "2")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#totals-heading")).to_be_visible()

    total = _figure(page.locator("dd[data-total=location]").inner_text())
    assert total > 0
    assert _figure(page.locator("dd[data-scope='2']").inner_text()) == total
    assert page.locator("dd[data-scope='1']").count() == 0  # the filter holds: scope 2 only
    chart = page.locator("figure.chart svg").first
    expect(chart).to_be_visible()
    assert chart.locator("rect").count() >= 1
    expect(page.locator("#totals-by-year")).to_contain_text("2025")
    page.screenshot(path=str(tmp_path / "totals.png"), full_page=True)

    with page.expect_download() as download:
        page.locator("a[data-export=totals-xlsx]").click()
    totals_file = tmp_path / "totals.xlsx"
    download.value.save_as(totals_file)
    sheet = load_workbook(totals_file).active
    rows = {(row[0], str(row[1])): row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert Decimal(str(rows[("total", "all")])) == total
    assert Decimal(str(rows[("scope", "2")])) == total

    with page.expect_download() as download:
        page.locator("a[data-export=records-xlsx]").click()
    records_file = tmp_path / "records.xlsx"
    download.value.save_as(records_file)
    sheet = load_workbook(records_file).active
    header = [cell.value for cell in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows and {row[header.index("scope")] for row in rows} == {2}
    exported = sum((Decimal(str(row[header.index("kgco2e")])) for row in rows if row[header.index("kgco2e")] is not None),
                   Decimal(0))
    assert abs(exported - total) < Decimal("0.001")

    assert violations(page) == []
    assert page.console_errors == []
