"""The real scim2-tester against a real running server (``bastion demo``): every check it runs passes.

The token is made the way an operator makes one, with ``bastion manage scim_token`` against the
server's own database; the tester then discovers the service from /ServiceProviderConfig,
/ResourceTypes and /Schemas and creates, reads, lists, searches, replaces, patches and deletes
users and groups. Afterwards the organisation's audit chain still verifies.
"""

from __future__ import annotations

import collections
import subprocess
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tests.live_server import ROOT, demo_server

FAILING = {Status.ERROR, Status.CRITICAL}


def _bastion(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bastion.cli", *args], cwd=ROOT, env=server.env,
                          capture_output=True, text=True, timeout=120)


def test_scim2_tester_finds_nothing_wrong(capsys):
    with demo_server() as server:
        made = _bastion(server, "manage", "scim_token", "--org", "acme")
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip().splitlines()[-1]
        with httpx2.Client(base_url=f"{server.url}/scim/v2", headers={"Authorization": f"Bearer {token}"},
                           timeout=30) as http:
            results = check_server(SyncSCIMClient(http), raise_exceptions=False)
        verified = _bastion(server, "audit", "verify", "--org", "acme")

    counts = collections.Counter(result.status.name for result in results)
    with capsys.disabled():
        print(f"\nscim2-tester: {len(results)} checks run, {counts['SUCCESS']} succeeded; by status: {dict(counts)}")
    failures = [f"{result.resource_type or ''} {result.title}: {result.reason}"
                for result in results if result.status in FAILING]
    assert failures == [], "\n".join(failures)
    assert counts["SUCCESS"] >= 50
    assert verified.returncode == 0, verified.stdout + verified.stderr
