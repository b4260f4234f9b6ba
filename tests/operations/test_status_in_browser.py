"""In Chromium, against the real ``bastion demo`` whose object storage is S3 on a real
``moto_server``: the status page shows the object store degraded while that server is stopped, with
no CSP violation, and operational again once it is back."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from tests.csp_watch import LISTEN_JS
from tests.live_server import ROOT, demo_server, free_port
from tests.peers.moto import CREDENTIALS

BUCKET = "bastion-status-objects"


class Moto:
    """One moto_server on a fixed port that the test can stop and start again (by its PID)."""

    def __init__(self):
        self.port, self.process = free_port(), None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        executable = Path(sys.executable).with_name("moto_server")
        self.process = subprocess.Popen([str(executable), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket=BUCKET)  # moto keeps state in memory

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def moto():
    server = Moto()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def live_s3_demo(moto):
    env = {**CREDENTIALS, "BASTION_STORAGE_URL": f"s3://{BUCKET}/objects?endpoint_url={moto.url}&region=us-east-1"}
    with demo_server(env) as server:
        yield server


def _check_now(server) -> str:
    """What the minute job does, now: ``bastion manage status_check`` against the demo's database."""
    env = {**server.env, "BASTION_STATUS_PROBE_URL": server.url}
    result = subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "status_check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return result.stdout


def _state(page, component: str) -> str:
    return page.get_attribute(f"li[data-component='{component}']", "data-state")


def test_the_object_store_stops_and_the_page_shows_it(live_s3_demo, moto, browser):
    assert "object_storage       operational" in _check_now(live_s3_demo)
    context = browser.new_context(base_url=live_s3_demo.url)
    page = context.new_page()
    page.add_init_script(LISTEN_JS)
    violations = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    page.goto("/status")
    assert _state(page, "object_storage") == "operational"

    moto.stop()
    try:
        out = _check_now(live_s3_demo)
        assert "object_storage       degraded" in out, out
        page.reload()
        assert _state(page, "object_storage") == "degraded"
        assert page.inner_text("li[data-component='object_storage'] .component-state") == "Degraded"
        assert _state(page, "database") == "operational"
        assert page.inner_text("#overall h1") != "All Systems Operational"
        assert page.evaluate("() => getComputedStyle(document.querySelector('.bar .day:last-child'))"
                             ".backgroundColor") != "rgba(0, 0, 0, 0)"  # the stylesheet loaded under the CSP
        violations.extend(page.evaluate("() => window.__cspViolations || []"))
    finally:
        moto.start()

    assert "object_storage       operational" in _check_now(live_s3_demo)
    page.reload()
    assert _state(page, "object_storage") == "operational"
    violations.extend(page.evaluate("() => window.__cspViolations || []"))
    for path in ("/status.json", "/status/feed.atom"):
        assert page.request.get(path).status == 200
    context.close()
    assert violations == []
    assert _stored_csp_reports(live_s3_demo) == 0  # nor did the server receive any report


def _stored_csp_reports(server) -> int:
    code = "from bastion.hardening.models import CspViolation; print(CspViolation.objects.count())"
    result = subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "shell", "-c", code], cwd=ROOT,
                            env=server.env, capture_output=True, text=True, check=True, timeout=120)
    return int(result.stdout.strip().splitlines()[-1])
