"""Browser tests: Debian's chromium driven by Playwright against ``bastion demo`` in a subprocess."""

from __future__ import annotations

import pytest

from tests.live_server import demo_server


@pytest.fixture(scope="session")
def live_demo():
    with demo_server() as server:
        yield server


@pytest.fixture
def page_for(browser, live_demo):
    """``page_for(email)``: a fresh browser context signed in through the login form."""
    contexts = []

    def sign_in(email: str):
        context = browser.new_context(base_url=live_demo.url)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
        page.goto("/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", live_demo.password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    yield sign_in
    for context in contexts:
        context.close()
