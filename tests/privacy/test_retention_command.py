"""``bastion privacy retention --dry-run`` shows the dry-run report; nothing is deleted."""

from __future__ import annotations

import io

from bastion.commands import privacy
from bastion.privacy import holds
from bastion.records.models import EmissionRecord
from bastion.tenancy import context


def test_dry_run_report_deletes_nothing(world, settings):
    settings.BASTION_RETENTION_RECORDS_DAYS = 30  # the world's 2025 records are then long past it
    with context.tenant_context(world.acme.organisation.id):
        holds.place(world.acme.organisation, reason="Tax audit")
    out, err = io.StringIO(), io.StringIO()
    assert privacy.retention_run(dry_run=True, out=out, err=err) == 0
    report = out.getvalue()
    assert "globex: emissions: would delete 3" in report
    assert "acme: emissions: kept 3 under legal hold" in report and "Tax audit" in report
    assert report.splitlines()[-1].startswith("dry run: would delete")
    for organisation in (world.acme, world.globex):
        with context.tenant_context(organisation.organisation.id):
            assert EmissionRecord.objects.count() == 3


def test_the_command_line_parses(capsys):
    from bastion.cli import main

    try:
        main(["privacy", "retention", "--help"])
    except SystemExit as exit:
        assert exit.code == 0
    assert "--dry-run" in capsys.readouterr().out


def test_the_daily_job_reports_its_three_runs(world):
    from bastion.operations.tasks import privacy_daily

    done = privacy_daily.call_local()
    assert done == {"erased": 0, "suspended": 0, "organisations_deleted": 0, "retention_deleted": 0,
                    "retention_held": 0}
