"""In Chromium, against the real ``bastion demo``: ``bastion trust run`` (with its header check sending
a real request to the server) fills ``/trust``; the page shows failing controls failing, with no CSP
violation, and the ``/trust.json`` it links to verifies offline with the key it links to."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from bastion.trust import offline
from tests.csp_watch import LISTEN_JS
from tests.live_server import ROOT, demo_server


@pytest.fixture(scope="module")
def demo():
    with demo_server() as server:
        yield server


def test_trust_page_in_chromium_after_a_real_run(demo, browser):
    env = {**demo.env, "BASTION_STATUS_PROBE_URL": demo.url}
    run = subprocess.run([sys.executable, "-m", "bastion.cli", "trust", "run"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert f"{demo.url}/trust: CSP" in run.stdout  # the header check asked the live server

    context = browser.new_context(base_url=demo.url)
    page = context.new_page()
    page.add_init_script(LISTEN_JS)
    page.goto("/trust")
    assert page.locator("section.trust-control").count() >= 14
    assert page.locator('tr[data-check="hardening.headers"] td.trust-pass').count() == 1
    statuses = page.locator("section.trust-control").evaluate_all("els => els.map(e => e.dataset.status)")
    assert ("fail" in statuses) == (run.returncode == 1)
    page.click("text=trust.json")
    envelope = json.loads(page.locator("body").inner_text())
    violations = page.evaluate("() => window.__cspViolations || []")
    context.close()
    with urllib.request.urlopen(f"{demo.url}/trust/key", timeout=10) as response:
        key = offline.load_key(response.read().decode())
    assert offline.verify(envelope, key)[0]
    assert violations == []
