"""Issue 17 part 5, on SQLite: a person erased after a backup was taken is erased again from every
restored copy before it answers a request — ``bastion backup restore``, the drill (which fails if
anything erased came back), and ``bastion serve`` over a database an operator put back by hand.
An installation of the tests' own (``tests.backups.installation``), driven as an operator would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.backups import installation
from tests.live_server import ROOT, free_port

PERSON, OUTSIDER = "viewer@acme.example", "viewer@globex.example"


def _step(site: installation.Installation, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.privacy.ledger_steps", *args], cwd=ROOT, env=site.env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def erased_after_backup(tmp_path_factory):
    """A backup (and a hand-made copy of the file) taken, then the person erased."""
    site = installation.new()
    taken = site.bastion("backup", "now")
    assert taken.returncode == 0, taken.stdout + taken.stderr
    by_hand = tmp_path_factory.mktemp("by-hand") / "bastion.sqlite3"
    _step(site, "copy-database", str(by_hand))
    erased = _step(site, "erase", PERSON)
    return site, erased["id"], by_hand


def _ledger(site) -> list[dict]:
    return [json.loads(line) for line in (site.data_dir / "witness" / "erasure-ledger.jsonl").read_text().splitlines()]


def test_the_erasure_is_in_the_ledger_beside_the_anchors_without_personal_data(erased_after_backup):
    site, person_id, _ = erased_after_backup
    [entry] = _ledger(site)
    assert entry["body"]["kind"] == "person-erased" and entry["body"]["subject"] == str(person_id)
    assert entry["signature"] and entry["body"]["prev"] == "0" * 64
    assert "acme" not in json.dumps(entry) and "viewer" not in json.dumps(entry)


def test_restore_erases_the_person_again_and_leaves_the_outsider(erased_after_backup, tmp_path):
    site, person_id, _ = erased_after_backup
    restored = site.bastion("backup", "restore", "--to", str(tmp_path / "restored"))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "ok erasure ledger: 1 ledger entry, 1 replayed" in restored.stdout
    copy = str(tmp_path / "restored" / "bastion.sqlite3")
    person = _step(site, "person", str(person_id), copy)
    assert person["email"].endswith("@erased.invalid") and not person["active"]
    assert person["addresses"] == 0 and person["memberships"] == 0 and person["first_name"] == ""
    outsider = _step(site, "person", str(_id_of(site, OUTSIDER, copy)), copy)
    assert outsider["email"] == OUTSIDER and outsider["active"] and outsider["memberships"] >= 1


def _id_of(site, email: str, database: str) -> int:
    done = subprocess.run([sys.executable, "-c", (
        "import django, os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'bastion.settings'); django.setup()\n"
        "from pathlib import Path\nfrom django.contrib.auth import get_user_model\n"
        "from bastion.backups import restored_database\n"
        f"with restored_database.sqlite(Path({database!r})):\n"
        f"    print(get_user_model().objects.get(email={email!r}).pk)")],
        cwd=ROOT, env=site.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_the_drill_checks_that_nothing_erased_came_back(erased_after_backup):
    site, _, _ = erased_after_backup
    drill = site.bastion("backup", "drill")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "ok erasures: nothing erased came back (1 ledger entry, 1 replayed)" in drill.stdout


def test_serve_over_a_database_put_back_by_hand_erases_before_it_answers(erased_after_backup):
    site, person_id, by_hand = erased_after_backup
    live = site.data_dir / "bastion.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    live.write_bytes(by_hand.read_bytes())  # the operator's restore: the person is back
    assert _step(site, "person", str(person_id))["email"] == PERSON
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bastion.cli", "serve", "--port", str(port), "--no-jobs"],
                              cwd=ROOT, env=site.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        answered = None
        deadline = time.monotonic() + 90
        while answered is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:
                    answered = response.status
            except urllib.error.HTTPError as exc:
                answered = exc.code
            except OSError:
                time.sleep(0.2)
        assert answered == 200, server.stderr.read() if server.poll() is not None else answered
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert f"erasure ledger: replayed person-erased {person_id} (entry 1)" in errors
    person = _step(site, "person", str(person_id))
    assert person["email"].endswith("@erased.invalid") and person["addresses"] == 0


def test_a_worker_over_a_database_put_back_by_hand_erases_before_it_takes_jobs(erased_after_backup):
    site, person_id, by_hand = erased_after_backup
    live = site.data_dir / "bastion.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    live.write_bytes(by_hand.read_bytes())
    worker = subprocess.Popen([sys.executable, "-m", "bastion.cli", "worker"], cwd=ROOT, env=site.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = worker.stderr.readline()
        while line and "erasure ledger" not in line:
            line = worker.stderr.readline()
    finally:
        worker.terminate()
        worker.communicate(timeout=30)
    assert f"bastion worker: erasure ledger: replayed person-erased {person_id} (entry 1)" in line
    assert _step(site, "person", str(person_id))["email"].endswith("@erased.invalid")


def test_serve_refuses_to_start_on_an_altered_ledger(erased_after_backup):
    site, _, _ = erased_after_backup
    path = site.data_dir / "witness" / "erasure-ledger.jsonl"
    original = path.read_text()
    record = json.loads(original)
    record["body"]["subject"] = "1"
    path.write_text(json.dumps(record) + "\n")
    try:
        refused = site.bastion("serve", "--port", str(free_port()), "--no-jobs", timeout=120)
    finally:
        path.write_text(original)
    assert refused.returncode == 2, refused.stderr
    assert "bastion serve: refusing to start: erasure ledger:" in refused.stderr and "entry 1 was altered" in refused.stderr
    assert "Traceback" not in refused.stderr
