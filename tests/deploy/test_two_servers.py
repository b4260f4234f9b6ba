"""Several servers (issue 23, part 4): two ``bastion serve`` and two ``bastion worker`` processes on one
PostgreSQL, one Redis and S3, behind HAProxy (``tests/deploy/two_servers.py``, started once).

Each cross-server test talks to server A directly, then to server B directly, then through the
balancer, and shows that the state it relies on is shared: sessions, CSRF tokens, rate limits,
lockout, used TOTP codes, the audit chain and once-only periodic jobs. Then an API and a browser
smoke through the balancer, a locust run, and a kill -9 of one server and one worker mid-load (last:
it leaves one of each). Its own database, Redis and moto, hence ``own_cluster``.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.deploy import two_servers
from tests.live_server import ROOT
from tests.sign_in import sign_out_in_browser

pytestmark = pytest.mark.own_cluster

EMISSION = {"scope": 2, "category": "purchased_electricity", "activity": "Two servers", "quantity": "10",
            "unit": "kWh", "period_start": "2025-04-01", "period_end": "2025-04-30", "site": "Leeds"}


@pytest.fixture(scope="session")
def fleet():
    with two_servers.fleet() as started:
        yield started


def _address() -> str:
    """A client address of this test's own (sent as X-Forwarded-For, believed from 127.0.0.1)."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _form_token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=15)
    assert page.status_code == 200, page.text[-2000:]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def _post_form(session: requests.Session, base: str, path: str, data: dict, token: str, **headers):
    return session.post(base + path, data={"csrfmiddlewaretoken": token, **data},
                        headers={"Referer": base + path, "Origin": base, **headers}, allow_redirects=False, timeout=30)


def _sign_in(session, base_form: str, base_post: str, email: str, password: str = two_servers.PASSWORD, **headers):
    """The sign-in form fetched from ``base_form`` and posted to ``base_post`` (the same token)."""
    token = _form_token(session, base_form + "/accounts/login/")
    return _post_form(session, base_post, "/accounts/login/", {"login": email, "password": password}, token,
                      **headers)


def _api(fleet, slug: str):
    return {"Authorization": f"Bearer {fleet.seed['api_keys'][slug]}"}


def _records_url(fleet, base: str, slug: str, suffix: str = "/emissions") -> str:
    return f"{base}/api/v1/orgs/{slug}/projects/{fleet.seed['projects'][slug]}{suffix}"


def test_the_fleet_is_two_servers_and_two_workers_behind_haproxy(fleet):
    assert all(process.alive() for process in [*fleet.servers.values(), *fleet.workers.values()])
    assert len(fleet.servers) == 2 and len(fleet.workers) == 2
    checked = fleet.bastion("config", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for shared_state in ("bastion.E501", "bastion.E502", "bastion.W505"):  # Redis, PostgreSQL, KMS and S3 shared
        assert shared_state not in checked.stdout, checked.stdout
    # Round robin: requests through the balancer reach both servers.
    served = [requests.get(f"{fleet.balancer}/healthz", timeout=10).headers["X-Served-By"] for _ in range(6)]
    assert sorted(set(served)) == ["a", "b"], served


def test_a_session_made_on_a_works_on_b_and_through_the_balancer(fleet):
    a, b = fleet.servers["a"].url, fleet.servers["b"].url
    browser = requests.Session()
    signed_in = _sign_in(browser, a, a, "viewer@acme.example")
    assert signed_in.status_code == 302, signed_in.text[-2000:]
    for base in (b, a, fleet.balancer, fleet.balancer):
        own = browser.get(base + "/api/v1/orgs/acme", timeout=15)
        assert own.status_code == 200 and own.json()["slug"] == "acme", (base, own.text)
        outsider = browser.get(base + "/api/v1/orgs/globex", timeout=15)
        assert outsider.status_code == 404, (base, outsider.text)
    # Signed out on B: the same cookie is refused on A too (the session row is gone from the shared database).
    signed_out = _post_form(browser, b, "/accounts/logout/", {}, browser.cookies["csrftoken"])
    assert signed_out.status_code == 302, signed_out.text[-2000:]
    for base in (a, b):
        gone = requests.get(base + "/api/v1/orgs/acme", cookies={"sessionid": signed_in.cookies["sessionid"]},
                            timeout=15)
        assert gone.status_code in (401, 403), (base, gone.status_code, gone.text)


def test_a_csrf_token_from_a_form_on_a_is_accepted_by_a_post_on_b(fleet):
    a, b = fleet.servers["a"].url, fleet.servers["b"].url
    browser = requests.Session()
    token = _form_token(browser, a + "/accounts/login/")
    forged = _post_form(requests.Session(), b, "/accounts/login/", {"login": "viewer@acme.example",
                                                                     "password": two_servers.PASSWORD}, token)
    assert forged.status_code == 403  # the token without its cookie: refused on B as it would be on A
    accepted = _post_form(browser, b, "/accounts/login/", {"login": "editor@acme.example",
                                                           "password": two_servers.PASSWORD}, token)
    assert accepted.status_code == 302, accepted.text[-2000:]
    assert browser.get(fleet.balancer + "/api/v1/orgs/acme", timeout=15).status_code == 200


def _clear_of_the_hour_boundary() -> None:
    """Rate limits count in fixed windows: a test of an hourly limit does not start in its last seconds."""
    left = 3600 - time.time() % 3600
    if left < 15:
        time.sleep(left + 1)


def test_rate_limits_count_across_both_servers(fleet):
    """CSP reports: 10 an hour per address here; 5 on A and 5 on B use them all, the next is refused on
    either server and through the balancer, while another address is still served."""
    _clear_of_the_hour_boundary()
    address = {"X-Forwarded-For": _address()}
    body = b'{"csp-report": {"document-uri": "http://localhost/", "violated-directive": "script-src"}}'
    headers = {"Content-Type": "application/csp-report", **address}

    def report(base: str) -> int:
        return requests.post(base + "/csp-report/", data=body, headers=headers, timeout=15).status_code

    a, b = fleet.servers["a"].url, fleet.servers["b"].url
    assert [report(a) for _ in range(5)] + [report(b) for _ in range(5)] == [204] * 10
    assert [report(a), report(b), report(fleet.balancer)] == [429] * 3
    other = requests.post(b + "/csp-report/", data=body, timeout=15,
                          headers={"Content-Type": "application/csp-report", "X-Forwarded-For": _address()})
    assert other.status_code == 204


def test_lockout_counts_failed_sign_ins_split_over_both_servers(fleet):
    a, b = fleet.servers["a"].url, fleet.servers["b"].url
    email, address = "editor@globex.example", {"X-Forwarded-For": _address()}
    for base in (a, b, a, b):
        failed = _sign_in(requests.Session(), base, base, email, "not the password at all", **address)
        assert failed.status_code == 200 and "Too many failed" not in failed.text
    fifth = _sign_in(requests.Session(), a, b, email, "not the password at all", **address)  # the 5th: locks
    assert fifth.status_code == 200
    for base in (a, b, fleet.balancer):  # now even the right password is refused, on every server
        refused = _sign_in(requests.Session(), base, base, email, two_servers.PASSWORD, **address)
        assert refused.status_code == 200 and "Too many failed sign-in attempts" in refused.text, base
    account = "account:" + hashlib.sha256(email.encode()).hexdigest()
    lockouts, locked_until = fleet.query(
        "SELECT lockouts, locked_until FROM identity_signinthrottle WHERE key = %s", (account,))[0]
    assert lockouts == 1 and locked_until > datetime.datetime.now(datetime.UTC)  # one lock, from five failures


def _code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    if 30 - time.time() % 30 < 6:  # not at the end of a period: the code must stay current for this test
        time.sleep(30 - time.time() % 30 + 0.5)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _second_factor(session, base: str, code: str):
    token = _form_token(session, base + "/accounts/2fa/authenticate/")
    return _post_form(session, base, "/accounts/2fa/authenticate/", {"code": code}, token)


def test_a_totp_code_used_on_a_is_refused_on_b(fleet):
    a, b = fleet.servers["a"].url, fleet.servers["b"].url
    code = _code(fleet.seed["totp"]["owner@acme.example"])
    first = requests.Session()
    assert _sign_in(first, a, a, "owner@acme.example").headers["Location"] == "/accounts/2fa/authenticate/"
    assert _second_factor(first, a, code).status_code == 302
    assert first.get(a + "/api/v1/orgs/acme", timeout=15).status_code == 200
    assert any(b"mfa" in key for key in fleet.redis().scan_iter(count=1000))  # the used code, in the shared cache
    replay = requests.Session()
    assert _sign_in(replay, b, b, "owner@acme.example").status_code == 302
    refused = _second_factor(replay, b, code)
    assert refused.status_code == 200, refused.headers
    assert replay.get(b + "/api/v1/orgs/acme", timeout=15).status_code in (401, 403)
    # B checks codes as A does: another person's current code is accepted there.
    other = requests.Session()
    assert _sign_in(other, b, b, "admin@acme.example").status_code == 302
    assert _second_factor(other, b, _code(fleet.seed["totp"]["admin@acme.example"])).status_code == 302


def _create(fleet, base: str, slug: str, activity: str) -> requests.Response:
    return requests.post(_records_url(fleet, base, slug), json={**EMISSION, "activity": activity},
                         headers=_api(fleet, slug), timeout=30)


def test_audit_appends_from_both_servers_at_once_leave_one_unbroken_chain(fleet):
    a, b = fleet.servers["a"].url, fleet.servers["b"].url
    run = uuid.uuid4().hex[:8]
    statuses: list[int] = []

    def writer(base: str, name: str) -> None:
        for i in range(8):
            statuses.append(_create(fleet, base, "acme", f"audit {run} {name}{i}").status_code)

    threads = [threading.Thread(target=writer, args=(base, f"{label}{n}"))
               for label, base in (("a", a), ("b", b)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 48
    rows = fleet.query("SELECT seq FROM audit_auditevent WHERE chain_id = "
                       "(SELECT id FROM tenancy_organisation WHERE slug = 'acme') ORDER BY seq")
    sequence = [seq for (seq,) in rows]
    assert sequence == list(range(1, len(sequence) + 1))  # no gap, no duplicate
    created = fleet.query("SELECT count(*) FROM audit_auditevent WHERE resource_type = 'emission_record' "
                          "AND changes::text LIKE %s", (f"%audit {run} %",))
    assert created[0][0] in (0, 48)  # (the changes may be kept as personal data elsewhere; the count is below)
    verified = fleet.bastion("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_api_smoke_through_the_balancer(fleet):
    lb = fleet.balancer
    listed = requests.get(_records_url(fleet, lb, "acme"), headers=_api(fleet, "acme"), timeout=15)
    assert listed.status_code == 200 and len(listed.json()["items"]) >= 12, listed.text[-1000:]
    created = _create(fleet, lb, "acme", "API smoke")
    assert created.status_code == 201, created.text
    record = created.json()["id"]
    for _ in range(2):  # read back from both servers in turn
        shown = requests.get(_records_url(fleet, lb, "acme", f"/emissions/{record}"), headers=_api(fleet, "acme"),
                             timeout=15)
        assert shown.status_code == 200 and shown.json()["activity"] == "API smoke"
    # The outsider's key gets nothing of acme's, and acme's key nothing of globex's.
    for slug, key in (("acme", "globex"), ("globex", "acme")):
        refused = requests.get(_records_url(fleet, lb, slug), headers=_api(fleet, key), timeout=15)
        assert refused.status_code in (403, 404) and "error" in refused.json(), refused.text
    foreign = requests.get(_records_url(fleet, lb, "globex", f"/emissions/{record}"), headers=_api(fleet, "globex"),
                           timeout=15)
    assert foreign.status_code == 404
    anonymous = requests.get(_records_url(fleet, lb, "acme"), timeout=15)
    assert anonymous.status_code == 401
    bad = requests.post(_records_url(fleet, lb, "acme"), json={**EMISSION, "scope": 7}, headers=_api(fleet, "acme"),
                        timeout=15)
    assert bad.status_code == 422 and bad.json()["error"]["fields"], bad.text


def test_browser_smoke_through_the_balancer(fleet, browser):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=fleet.balancer)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("input[name=login]", "viewer@acme.example")
        page.fill("input[name=password]", two_servers.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.get_by_role("link", name="UK Operations").first.click()
        page.get_by_role("link", name="FY2025 GHG inventory").first.click()
        rows = page.locator("table tbody tr")
        expect(rows.first).to_be_visible()
        assert rows.count() >= 12
        assert "Globex" not in page.content()
        sign_out_in_browser(page)
        page.wait_for_load_state()
        assert page.goto("/api/v1/orgs/acme").status in (401, 403)
    finally:
        context.close()


def test_locust_through_the_balancer_reports_throughput_and_no_failure(fleet, tmp_path):
    env = {**os.environ, "BASTION_LOCUST_API_KEY": fleet.seed["api_keys"]["acme"], "BASTION_LOCUST_ORG": "acme",
           "BASTION_LOCUST_PROJECT": fleet.seed["projects"]["acme"]}
    command = [str(Path(sys.executable).with_name("locust")), "-f", str(ROOT / "deploy" / "locustfile.py"),
               "--headless", "-u", "8", "-r", "4", "-t", "20s", "--host", fleet.balancer, "--only-summary",
               "--csv", str(tmp_path / "run")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with open(tmp_path / "run_stats.csv") as stats:
        total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    requests_made, failures = int(total["Request Count"]), int(total["Failure Count"])
    print(f"locust through HAProxy (2 servers): {requests_made} requests, {float(total['Requests/s']):.1f} req/s, "
          f"{failures} failures, median {total['Median Response Time']} ms, "
          f"95th percentile {total['95%']} ms")  # the figures of this run, for the record (pytest -s)
    assert requests_made > 20 and failures == 0, total


def test_a_periodic_job_runs_once_per_minute_across_two_workers(fleet):
    """Both workers' schedulers tick each minute; for each minute one claims the minutely job and
    enqueues it, the other finds it claimed. Over the minutes the fleet has run, the job was enqueued
    and executed once per claimed minute, and both workers' schedulers took part."""
    job = "bastion.operations.tasks.audit_checkpoints"

    def logs() -> str:
        return "".join(worker.text() for worker in fleet.workers.values())

    refused = f"periodic task {job} of "
    deadline = time.monotonic() + 130
    while logs().count(refused) < 1 or len(list(fleet.redis().scan_iter(f"*periodic-claim:*:{job}"))) < 2:
        assert time.monotonic() < deadline, [worker.text()[-2000:] for worker in fleet.workers.values()]
        time.sleep(1)
    for worker in fleet.workers.values():  # each worker's scheduler ticked (it enqueued, or found the minute claimed)
        assert f"Enqueueing periodic task {job}" in worker.text() or refused in worker.text(), worker.name
    deadline = time.monotonic() + 30
    while logs().count(f"Executing {job}") < 2:
        assert time.monotonic() < deadline, logs()[-3000:]
        time.sleep(0.5)
    text = logs()
    claims = len(list(fleet.redis().scan_iter(f"*periodic-claim:*:{job}")))  # one per minute since the start
    enqueued, executed = text.count(f"Enqueueing periodic task {job}"), text.count(f"Executing {job}")
    # Once per claimed minute (a claim made this instant may not have its log line yet; a run just
    # enqueued may not have started): two workers without the claims would enqueue it twice a minute.
    assert claims - 1 <= enqueued <= claims, (claims, enqueued)
    assert enqueued - 1 <= executed <= enqueued, (enqueued, executed)


def test_kill_9_of_one_server_and_one_worker_mid_load_loses_no_acknowledged_write(fleet):
    """A stream of API writes through HAProxy; server A and worker A are killed (SIGKILL to their
    process groups) in the middle. Every write acknowledged with a 201 is in the database, server B
    keeps answering through the balancer, and jobs still run on worker B."""
    run = uuid.uuid4().hex[:8]
    acknowledged: list[str] = []
    failed: list[int] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            try:
                response = _create(fleet, fleet.balancer, "acme", f"kill {run} {n}-{i}")
            except requests.RequestException:
                failed.append(0)
            else:
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
                else:
                    failed.append(response.status_code)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    def until(enough: int, seconds: float) -> None:  # a loaded machine is slow, not wrong: wait for progress
        deadline = time.monotonic() + seconds
        while len(acknowledged) < enough and time.monotonic() < deadline:
            time.sleep(0.2)

    try:
        until(10, 60)  # mid-load: writes are being acknowledged when the kill comes
        before = len(acknowledged)
        fleet.servers["a"].kill_machine()
        fleet.workers["a"].kill_machine()
        killed_at = len(acknowledged)
        time.sleep(3)
        until(killed_at + 10, 60)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert before > 0 and len(acknowledged) > killed_at + 5, (before, killed_at, len(acknowledged), failed)
    stored = {str(row[0]) for row in fleet.query(
        "SELECT id FROM records_emissionrecord WHERE activity LIKE %s", (f"kill {run} %",))}
    assert set(acknowledged) <= stored, set(acknowledged) - stored
    print(f"kill -9 mid-load: {len(acknowledged)} writes acknowledged and stored, {len(failed)} refused or cut "
          f"off ({sorted(set(failed))}), {len(stored) - len(acknowledged)} stored without an acknowledgement")
    # HAProxy has taken A out: every request is answered, by B.
    served = []
    for _ in range(10):
        response = requests.get(fleet.balancer + "/healthz", timeout=10)
        assert response.status_code == 200
        served.append(response.headers["X-Served-By"])
    assert set(served) == {"b"}
    assert fleet.servers["b"].alive() and fleet.workers["b"].alive()
    # Jobs still run, on the surviving worker.
    ids = fleet.step("enqueue", "audit_checkpoints", "1")["ids"]
    deadline = time.monotonic() + 60
    while not all(f"{task_id} executed in" in fleet.workers["b"].text() for task_id in ids):
        assert time.monotonic() < deadline, fleet.workers["b"].text()[-3000:]
        time.sleep(0.5)
