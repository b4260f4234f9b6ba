"""The real thing: Debian's Prometheus scrapes a running `bastion serve` (two gunicorn workers and its
job worker, metrics in multiprocess mode) with the bearer token, and the test reads back through
Prometheus's HTTP API the counters its own requests moved; a scrape job with a wrong token is down
(401). Then no label Prometheus stored names the organisation, the email address or the client's IP
the workload used, and the server's log is JSON lines that name none of them either."""

from __future__ import annotations

import http.cookiejar
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import _postgres_database, _running, free_port
from tests.operations.scrape import TOKEN

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"  # Debian's package (scripts/test installs it)
CLIENT_IP = "203.0.113.50"
EMAIL = "ceo@initech-holdings.example"
SECURITY_TXT_REQUESTS = 12
FAILED_SIGN_INS = 3


@pytest.fixture(scope="module")
def bastion_serve(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    import os

    data_dir = tmp_path_factory.mktemp("bastion-serve")
    port = free_port()
    env = {**os.environ, "BASTION_DATA_DIR": str(data_dir), "BASTION_METRICS_TOKEN": TOKEN,
           "BASTION_TRUSTED_PROXIES": "127.0.0.1"}  # so the test can speak for a client at CLIENT_IP
    for name in ("DJANGO_SETTINGS_MODULE", "PROMETHEUS_MULTIPROC_DIR", "BASTION_LOG_FORMAT"):
        env.pop(name, None)
    url, log = f"http://127.0.0.1:{port}", data_dir / "server.log"
    with _postgres_database(env), _running(["serve", "--port", str(port), "--workers", "2"], env, url, log):
        yield url, log


@pytest.fixture(scope="module")
def prometheus(bastion_serve, tmp_path_factory) -> Iterator[str]:
    url, _ = bastion_serve
    target = url.removeprefix("http://")
    directory = tmp_path_factory.mktemp("prometheus")
    (directory / "token").write_text(TOKEN)
    (directory / "wrong-token").write_text("not-the-token-" + "y" * 24)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "bastion", "metrics_path": "/metrics",
             "authorization": {"type": "Bearer", "credentials_file": str(directory / "token")},
             "static_configs": [{"targets": [target]}]},
            {"job_name": "bastion-wrong-token", "metrics_path": "/metrics",
             "authorization": {"type": "Bearer", "credentials_file": str(directory / "wrong-token")},
             "static_configs": [{"targets": [target]}]},
        ],
    }
    (directory / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    with open(directory / "prometheus.log", "wb") as log:
        process = subprocess.Popen([PROMETHEUS, f"--config.file={directory / 'prometheus.yml'}",
                                    f"--storage.tsdb.path={directory / 'data'}",
                                    f"--web.listen-address=127.0.0.1:{port}"],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        api = f"http://127.0.0.1:{port}"
        _wait(lambda: _get(api + "/-/ready") is not None, 30, "prometheus did not start")
        yield api
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _get(url: str, **kwargs) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5, **kwargs) as response:
            return response.read()
    except OSError:
        return None


def _wait(condition, seconds: float, message: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(message)


def _query(api: str, expression: str) -> list[dict]:
    body = _get(f"{api}/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
    return json.loads(body)["data"]["result"] if body else []


def _scalar(api: str, expression: str) -> float | None:
    result = _query(api, expression)
    return float(result[0]["value"][1]) if result else None


def _fail_sign_in(url: str) -> int:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    headers = {"X-Forwarded-For": CLIENT_IP}
    with opener.open(urllib.request.Request(url + "/accounts/login/", headers=headers), timeout=10) as page:
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.read()).group(1).decode()
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": EMAIL, "password": "wrong password"})
    request = urllib.request.Request(url + "/accounts/login/", data=form.encode(), method="POST",
                                     headers={**headers, "Referer": url + "/accounts/login/", "Origin": url})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_prometheus_reads_back_what_the_test_did(bastion_serve, prometheus):
    url, log = bastion_serve
    # The wrong token: 401, so Prometheus marks that target down; the right one: up.
    _wait(lambda: _scalar(prometheus, 'up{job="bastion"}') == 1, 30, "the bastion target never came up")
    _wait(lambda: _scalar(prometheus, 'up{job="bastion-wrong-token"}') == 0, 30, "the wrong token was accepted")
    targets = json.loads(_get(prometheus + "/api/v1/targets"))["data"]["activeTargets"]
    [wrong] = [t for t in targets if t["labels"]["job"] == "bastion-wrong-token"]
    assert "401" in wrong["lastError"]

    for _ in range(SECURITY_TXT_REQUESTS):
        assert _get(url + "/.well-known/security.txt", ) is not None
    for _ in range(FAILED_SIGN_INS):
        assert _fail_sign_in(url) == 200  # the form again, with its error

    requests = 'sum(bastion_http_requests_total{job="bastion",route="/.well-known/security.txt",status="200"})'
    _wait(lambda: _scalar(prometheus, requests) == SECURITY_TXT_REQUESTS, 30,
          f"Prometheus never read {SECURITY_TXT_REQUESTS} requests: {_query(prometheus, requests)}")
    failed = 'sum(bastion_signins_total{job="bastion",result="failed"})'
    _wait(lambda: _scalar(prometheus, failed) == FAILED_SIGN_INS, 30, f"failed sign-ins: {_query(prometheus, failed)}")
    appended = 'sum(bastion_audit_events_appended_total{job="bastion",action="auth.login.failed"})'
    _wait(lambda: _scalar(prometheus, appended) == FAILED_SIGN_INS, 30, "audit appends not counted")
    assert _scalar(prometheus, 'bastion_probe_up{job="bastion",component="database"}') == 1
    assert _scalar(prometheus, 'bastion_probe_up{job="bastion",component="cache"}') == 1
    assert _scalar(prometheus, 'bastion_job_queue_depth{job="bastion"}') is not None
    # The job worker's runs (its periodic job each minute) are added in with the web workers'.
    _wait(lambda: _scalar(prometheus, 'sum(bastion_job_runs_total{job="bastion",task="audit_checkpoints"})'), 90,
          "the job worker's runs never reached /metrics")

    series = _query(prometheus, '{__name__=~"bastion_.+", job="bastion"}')
    labels = {value for item in series for key, value in item["metric"].items() if key not in ("instance",)}
    assert not [value for value in labels if CLIENT_IP in value or "initech" in value.lower() or "@" in value]

    text = log.read_text()
    assert CLIENT_IP not in text and EMAIL not in text
    lines = [line for line in text.splitlines() if line.strip()]
    requests_logged = []
    for line in lines:
        entry = json.loads(line)  # every line, gunicorn's and the job worker's too, is JSON
        if entry.get("event") == "request":
            requests_logged.append(entry)
    assert sum(1 for e in requests_logged if e["route"] == "/.well-known/security.txt") == SECURITY_TXT_REQUESTS
    assert all(len(e["request_id"]) == 32 for e in requests_logged)
