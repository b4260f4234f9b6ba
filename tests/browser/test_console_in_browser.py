"""The console in a real browser, against ``bastion demo``: sign in, browse, edit, and the limits."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_an_editor_signs_in_browses_and_edits_a_record(page_for, tmp_path):
    page = page_for("editor@acme.example")
    expect(page.locator("body")).to_contain_text("Acme Manufacturing")
    page.get_by_role("link", name="UK Operations").first.click()
    page.get_by_role("link", name="FY2025 GHG inventory").first.click()
    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 10
    page.screenshot(path=str(tmp_path / "project.png"), full_page=True)

    rows.first.locator("a").first.click()
    page.get_by_role("link", name=re.compile("^Edit")).first.click()
    page.fill("input[name=notes], textarea[name=notes]", "Checked against the March invoice")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator("body")).to_contain_text("Checked against the March invoice")
    assert page.console_errors == []


def test_a_viewer_is_offered_no_writes(page_for, live_demo):
    page = page_for("viewer@acme.example")
    page.get_by_role("link", name="UK Operations").first.click()
    page.get_by_role("link", name="FY2025 GHG inventory").first.click()
    expect(page.locator("table tbody tr").first).to_be_visible()
    assert page.get_by_role("link", name="New emissions record").count() == 0
    # And the server refuses what the page does not offer.
    response = page.goto(page.url + "emissions/new/")
    assert response.status == 403


def test_an_outsider_gets_a_404_for_another_organisations_pages(page_for, live_demo):
    acme = page_for("editor@acme.example")
    acme.get_by_role("link", name="UK Operations").first.click()
    acme_workspace = acme.url
    globex = page_for("editor@globex.example")
    response = globex.goto(acme_workspace)
    assert response.status == 404
    assert "UK Operations" not in globex.content()


def test_a_user_of_two_organisations_switches_between_them(page_for, live_demo):
    page = page_for("editor@acme.example")
    page.goto("/orgs/")
    expect(page.locator("body")).to_contain_text("Acme Manufacturing")
    assert "Globex" not in page.content()


def test_the_wrong_password_is_refused(browser, live_demo):
    context = browser.new_context(base_url=live_demo.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "owner@acme.example")
    page.fill("input[name=password]", "not the password at all")
    page.click("button[type=submit]")
    assert "/accounts/login/" in page.url
    expect(page.locator("[role=alert], .form-errors").first).to_be_visible()
    context.close()
