"""Key rotation: new versions, everything re-encrypted, readable at every moment, resumable after a kill."""

from __future__ import annotations

import getpass
import io
import os
import re
import signal
import subprocess
import sys
import tempfile

import pytest

from bastion.audit.models import AuditEvent
from bastion.commands import keys
from bastion.crypto import envelope, keyfiles, keyring
from bastion.crypto.blind_index import matching
from bastion.crypto.models import Artifact, Credential, DataKey, IndexKey
from bastion.records.evidence import open_evidence
from bastion.records.models import EvidenceFile, Supplier
from bastion.tenancy import context
from tests.live_server import ROOT, _postgres_database
from tests.peers.softhsm import make_token


def _versions(ns) -> set[int]:
    with context.tenant_context(ns.organisation.id):
        return {envelope.key_version_of(str(v)) for v in
                Supplier.objects.values_list("contact_email", flat=True) if v is not None}


def test_rotation_reencrypts_one_organisation_and_retires_the_old_key(world):
    acme, globex = world.acme, world.globex
    with context.tenant_context(acme.organisation.id):
        for i in range(25):
            Supplier.objects.create(organisation=acme.organisation, project=acme.project, name=f"S{i}",
                                    contact_email=f"s{i}@example.com", contract_value=i)
    assert _versions(acme) == {1}
    out = io.StringIO()
    assert keys.rotate("acme", batch_size=7, out=out, err=io.StringIO()) == 0
    # 26 suppliers, the vaulted credential, the audit witness (its webhook secret field), and the file
    # keys of the evidence file and of the export (their bytes keep their own keys).
    assert "rotated acme: data key v2, 30 rows re-encrypted, retired [1]" in out.getvalue()
    assert _versions(acme) == {2} and _versions(globex) == {1}
    keyring.forget_cached()
    with context.tenant_context(acme.organisation.id):
        assert Supplier.objects.get(name="S7").contact_email == "s7@example.com"
        old = DataKey.objects.get(organisation_id=acme.organisation.id, version=1)
        assert old.retired_at is not None and old.kek_id.endswith("/v2")  # re-wrapped, kept for backups
        [event] = AuditEvent.objects.filter(chain_id=acme.organisation.id, action="keys.rotated")
        assert IndexKey.objects.get(organisation_id=acme.organisation.id).kek_id.endswith("/v2")
        assert Supplier.objects.filter(matching(Supplier, "contact_email", "s7@example.com",
                                                organisation_id=acme.organisation.id)).count() == 1
        assert Credential.objects.get(id=acme.credential.id).secret.startswith("gho_acme")
        evidence = EvidenceFile.objects.get(id=acme.evidence.id)
        assert envelope.key_version_of(Artifact.objects.filter(id=evidence.artifact_id).values_list(
            "file_key", flat=True).get()) == 2
        assert open_evidence(evidence).read() == b"%PDF-1.4\nacme invoice\n"
    assert event.changes["rows_reencrypted"] == 30
    assert (keyfiles.key_directory() / "orgs" / f"{acme.organisation.id}-v2.key").exists()


SEED = """
from bastion import demo
from bastion.records.models import Supplier
from bastion.tenancy import context
from bastion.tenancy.models import Organisation, Project
demo.create('seed password 1234')
with context.platform_scope():
    acme = Organisation.objects.get(slug='acme')
with context.tenant_context(acme.id):
    project = Project.objects.first()
    for i in range(1500):
        Supplier.objects.create(organisation=acme, project=project, name=f'Bulk {i}', contact_email=f'b{i}@example.com')
"""

CHECK = """
from bastion.crypto import envelope
from bastion.records.models import Supplier
from bastion.tenancy import context
from bastion.tenancy.models import Organisation
with context.platform_scope():
    acme = Organisation.objects.get(slug='acme')
with context.tenant_context(acme.id):
    rows = list(Supplier.objects.all())
    emails = [s.contact_email for s in rows]  # every one must open
    raw = Supplier.objects.values_list('contact_email', flat=True)
    print(sorted({envelope.key_version_of(str(v)) for v in raw}), len(emails), sum(e.startswith('b') for e in emails))
"""


ACTORS = """
from bastion.audit.models import AuditEvent
from bastion.tenancy import context
from bastion.tenancy.models import Organisation
with context.platform_scope():
    acme = Organisation.objects.get(slug="acme").id
with context.tenant_context(acme):
    events = AuditEvent.objects.filter(action__startswith="keys.").order_by("seq")
    print(*[e.action for e in events], *sorted({f"{e.actor_type}:{e.actor_id}" for e in events}))
"""


PROVIDERS = """
from bastion.crypto.models import DataKey
with context.platform_scope():
    organisations = list(Organisation.objects.values_list("id", flat=True))
providers = set()
for organisation_id in organisations:  # data keys are behind row-level security: read each organisation's own
    with context.tenant_context(organisation_id):
        providers |= set(DataKey.objects.values_list("provider", flat=True))
print(sorted(providers))
"""


# The HSM variant is a whole installation of its own (like the own_cluster tests): run once, in the
# PostgreSQL pass.
@pytest.mark.parametrize("provider", ["local", pytest.param("pkcs11", marks=pytest.mark.own_cluster)])
def test_a_rotation_killed_half_way_resumes_with_everything_readable(provider):
    env = {**os.environ, "BASTION_DATA_DIR": tempfile.mkdtemp(prefix="bastion-rotate-")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if provider == "pkcs11":  # a token of its own (SoftHSM2): migrate, seed, rotate, resume, all in the HSM
        env.update(make_token("bastion-rotation").env())

    def bastion(*args):
        result = subprocess.run([sys.executable, "-m", "bastion.cli", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    with _postgres_database(env):
        bastion("migrate", "--quiet")
        bastion("manage", "shell", "-c", SEED)
        rotating = subprocess.Popen([sys.executable, "-m", "bastion.cli", "keys", "rotate", "--org", "acme",
                                     "--batch-size", "1"], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, text=True)
        seen = ""
        while True:
            counts = re.findall(r"(\d+) rows re-encrypted", seen)
            if counts and int(counts[-1]) >= 50:
                break
            char = rotating.stderr.read(1)
            assert char, f"the rotation ended before it could be interrupted: {seen[-200:]!r}"
            seen = (seen + char)[-200:]
        assert re.search(r"acme: \[#+\.*\] \d+ rows re-encrypted of at most \d+", seen)  # the progress bar
        os.kill(rotating.pid, signal.SIGKILL)
        rotating.wait()

        versions, total, bulk = bastion("manage", "shell", "-c", CHECK).strip().splitlines()[-1].rsplit(" ", 2)
        assert versions == "[1, 2]", "half-way: some rows still under the old key, some under the new"
        assert int(bulk) == 1500  # and every value opens

        assert "resumed acme" in bastion("keys", "rotate", "--resume", "--org", "acme")
        *_, check, actors, providers = bastion("manage", "shell", "-c",
                                               CHECK + ACTORS + PROVIDERS).strip().splitlines()  # one start-up
        versions, total, bulk = check.rsplit(" ", 2)
        assert versions == "[2]" and int(bulk) == 1500
        # The rotation is recorded as done by the person who ran the command, not by "the system".
        assert actors == f"keys.rotation_started keys.rotated operator:{getpass.getuser()}"
        # Every data key of the installation is wrapped by the provider it runs on (the HSM's included).
        assert providers == f"['{provider}']"


def test_the_scheduled_job_rotates_only_keys_past_their_age(world, settings):
    import datetime

    from django.utils import timezone

    from bastion.operations.tasks import rotate_old_keys

    settings.BASTION_KEY_MAX_AGE_DAYS = 365
    with context.tenant_context(world.acme.organisation.id):
        DataKey.objects.filter(organisation_id=world.acme.organisation.id).update(
            created_at=timezone.now() - datetime.timedelta(days=400))
    assert rotate_old_keys.call_local() == 1
    assert _versions(world.acme) == {2} and _versions(world.globex) == {1}
    assert rotate_old_keys.call_local() == 0  # nothing is due any more
