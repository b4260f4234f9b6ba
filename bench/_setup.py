"""Shared set-up for benchmarks: a throw-away database (SQLite in a temp dir, or a PostgreSQL test
database created as the owner role and used as the app role when DATABASE_URL is set)."""

from __future__ import annotations

import atexit
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("BASTION_DATA_DIR", tempfile.mkdtemp(prefix="bastion-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bastion.settings")


def setup_database() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    connection = connections["default"]
    admin = settings.DATABASE_ADMIN_CREDENTIALS if connection.vendor == "postgresql" else None
    app = {key: connection.settings_dict[key] for key in ("USER", "PASSWORD")}
    if admin:
        connection.close()
        connection.settings_dict.update(admin)
    config = setup_databases(verbosity=0, interactive=False, serialized_aliases=[])
    if admin:
        connection.close()
        connection.settings_dict.update(app)

    def teardown():
        if admin:
            connection.close()
            connection.settings_dict.update(admin)
        teardown_databases(config, verbosity=0)

    atexit.register(teardown)


def per_call(function, repeat: int, rounds: int = 5) -> float:
    """Seconds per call of ``function``: the median of ``rounds`` runs of ``repeat`` calls each."""
    import statistics
    import time

    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        samples.append((time.perf_counter() - start) / repeat)
    return statistics.median(samples)


def add_emission_records(organisation, project, count: int = 500) -> None:
    """``count`` electricity records in ``project`` (inside the organisation's tenant context)."""
    import datetime
    from decimal import Decimal

    from bastion.records.models import EmissionRecord

    EmissionRecord.objects.bulk_create([
        EmissionRecord(organisation=organisation, project=project, scope=2, category="purchased_electricity",
                       activity=f"Electricity {i}", quantity=Decimal(i), unit="kWh",
                       period_start=datetime.date(2025, 1, 1) + datetime.timedelta(days=i % 300),
                       period_end=datetime.date(2025, 1, 2) + datetime.timedelta(days=i % 300))
        for i in range(count)
    ])


def acme_with_records(count: int = 500):
    """The benches' tenant: an owner (with a second factor, or every request is refused), organisation
    ``acme``, one workspace and project, and ``count`` records in it. Returns (user, organisation, project)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model

    from bastion.tenancy import actions, context

    user = get_user_model().objects.create_user(email="bench@acme.example", password="x" * 20)
    organisation = actions.create_organisation(name="Acme", slug="acme", owner=user)
    TOTP.activate(user, generate_totp_secret())
    with context.tenant_context(organisation.id):
        workspace = actions.create_workspace(organisation, name="UK")
        project = actions.create_project(workspace, name="FY2025")
        add_emission_records(organisation, project, count)
    return user, organisation, project
