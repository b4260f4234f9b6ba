"""Fixtures shared by every test.

Every test world has two organisations: ``acme`` (the insider's) and ``globex`` (the outsider's),
each with one user per built-in role, a workspace, a project and records. Whatever a test does as
an acme user, it also checks that globex gets nothing, and the other way round.
"""

from __future__ import annotations

import datetime
import os
import socket
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from bastion.crypto import api_keys
from bastion.identity.models import Invitation
from bastion.identity.sso.models import VerifiedDomain
from bastion.incidents.models import BreachNotice
from bastion.incidents.models import Incident as ResponseIncident
from bastion.records.evidence import store_evidence
from bastion.records.models import EmissionRecord, EnergyRecord, Supplier
from bastion.siem.models import SiemDestination
from bastion.support_access.models import AccessRequest
from bastion.tenancy import actions, context
from bastion.tenancy.api_keys import create as create_api_key
from bastion.tenancy.artifacts import create as create_ephemeral_artifact
from bastion.tenancy.credentials import store as store_credential
from bastion.tenancy.models import AuditWitness, Membership
from tests.sign_in import signed_in_with_second_factor

ROLES = ("owner", "admin", "editor", "viewer")
PASSWORD = "correct horse battery staple 42"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (RLS, triggers) are deselected on SQLite, never skipped: CI runs both."""
    if connections["default"].vendor == "postgresql":
        return
    selected = [item for item in items if item.get_closest_marker("postgres_only") is None]
    deselected = [item for item in items if item.get_closest_marker("postgres_only") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: it would hide a missing feature."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI") and reporter is not None and reporter.stats.get("skipped"):
        reporter.write_line(f"CI: {len(reporter.stats['skipped'])} skipped test(s) count as failures", red=True)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb):
    """Create and migrate the test database as the owner role, then test as the app role.

    With ``DATABASE_ADMIN_URL`` set (CI does), the tests' own connection is the application role:
    not the tables' owner, not a superuser, so row-level security applies to every test query.
    """
    from django.test.utils import setup_databases, teardown_databases

    connection = connections["default"]
    admin = settings.DATABASE_ADMIN_CREDENTIALS if connection.vendor == "postgresql" else None
    app = {key: connection.settings_dict[key] for key in ("USER", "PASSWORD")}

    def connect_as(credentials):
        connection.close()
        connection.settings_dict.update(credentials)

    with django_db_blocker.unblock():
        if admin:
            connect_as(admin)
        db_config = setup_databases(verbosity=0, interactive=False, keepdb=django_db_keepdb, serialized_aliases=[])
        if admin:
            connect_as(app)
    yield
    with django_db_blocker.unblock():
        if admin:
            connect_as(admin)
        teardown_databases(db_config, verbosity=0, keepdb=django_db_keepdb)


def _make_org(slug: str, name: str, django_user_model) -> SimpleNamespace:
    users = {
        role: django_user_model.objects.create_user(email=f"{role}@{slug}.example", password=PASSWORD,
                                             first_name=role.title(), email_verified=True)
        for role in ROLES
    }
    organisation = actions.create_organisation(name=name, slug=slug, owner=users["owner"])
    with context.tenant_context(organisation.id):
        for role in ROLES[1:]:
            actions.add_membership(organisation, user=users[role], role=role)
        workspace = actions.create_workspace(organisation, name=f"{name} UK")
        project = actions.create_project(workspace, name="FY2025 inventory")
        other_project = actions.create_project(workspace, name="FY2024 inventory")
        supplier = Supplier.objects.create(
            organisation=organisation, project=project, name=f"{name} Logistics", country="GB",
            contact_name="Pat Example", contact_email=f"pat@{slug}-supplier.example",
        )
        emissions = [
            EmissionRecord.objects.create(
                organisation=organisation, project=project, scope=scope, category=category, activity=activity,
                quantity=Decimal(quantity), unit=unit, period_start=datetime.date(2025, month, 1),
                period_end=datetime.date(2025, month, 28), site="London", supplier=supplier if scope == 3 else None,
            )
            for scope, category, activity, quantity, unit, month in [
                (1, "stationary_combustion", "Boiler gas", "1200.5", "kWh", 1),
                (2, "purchased_electricity", "Office electricity", "5400", "kWh", 2),
                (3, "c04_upstream_transport", "Road freight", "830", "tonne_km", 3),
            ]
        ]
        custom_role = actions.save_role(organisation, name="Auditor", permissions=["records.view", "evidence.view"])
        evidence = store_evidence(
            project, SimpleUploadedFile("invoice.pdf", b"%PDF-1.4\n" + slug.encode() + b" invoice\n", "application/pdf"),
            emission_record=emissions[0],
        )
        viewer_membership = Membership.objects.get(user=users["viewer"], workspace=None, project=None)
        owner_grants = list(Membership.objects.filter(user=users["owner"]))
        api_key, api_token = create_api_key(organisation, name="CI export", scopes=["records.view", "evidence.view"],
                                            expires_in_days=30, creator=users["owner"], creator_grants=owner_grants)
        credential = store_credential(organisation, name="GitHub", service="github", kind="oauth",
                                      secret=f"gho_{slug}AccessTokenSecret0123456789",
                                      refresh_token=f"ghr_{slug}RefreshTokenSecret0123456789")
        export = create_ephemeral_artifact(organisation, [b'{"type":"header"}\n'], purpose="audit_export",
                                           action="audit.exported")
        witness = AuditWitness.objects.create(organisation=organisation, kind="email", email=f"auditor@{slug}.example")
        siem_destination = SiemDestination.objects.create(organisation=organisation, name=f"{name} SOC", kind="syslog",
                                                          url=f"siem.{slug}.example:6514", streams=["audit", "access"],
                                                          enabled=False)
        domain = VerifiedDomain.objects.create(organisation=organisation, domain=f"{slug}-claimed.example",
                                               token=f"{slug}-token")
        link = api_keys.generate()
        invitation = Invitation.objects.create(
            organisation=organisation, email=f"invitee@{slug}-partner.example", role="viewer", invited_by=users["owner"],
            public_id=link.public_id, secret_hash=link.secret_hash,
            expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=7),
        )
        now = datetime.datetime.now(datetime.UTC)
        incident = ResponseIncident.objects.create(reference=f"INC-TEST-{slug.upper()}", title=f"{name} breach",
                                                   severity="high", declared_at=now, breach_confirmed_at=now)
        notice = BreachNotice.objects.create(organisation=organisation, incident=incident, nature=f"{name} breach",
                                             contact_point="security@bastion.example", status="sent", drafted_at=now,
                                             sent_at=now)
        # A staff access request waiting for acme's (globex's) admins, made by the platform's support staff.
        support_staff, _ = django_user_model.objects.get_or_create(
            email="support@bastion-staff.example", defaults={"staff_role": "support", "username": "support@bastion-staff.example"})
        access_request = AccessRequest.objects.create(
            organisation=organisation, requested_by=support_staff, requested_by_label=support_staff.email,
            reason="support", reference=f"TICKET-{slug}", created_at=now, answer_by=now + datetime.timedelta(hours=24))
        energy = EnergyRecord.objects.create(
            organisation=organisation, project=project, meter="MTR-1", site="London", kwh=Decimal("5400"),
            source="grid", period_start=datetime.date(2025, 2, 1), period_end=datetime.date(2025, 2, 28),
        )
    return SimpleNamespace(
        organisation=organisation, slug=slug, users=users, workspace=workspace, project=project,
        other_project=other_project, supplier=supplier, emissions=emissions, emission=emissions[0], energy=energy,
        evidence=evidence, custom_role=custom_role, viewer_membership=viewer_membership,
        api_key=api_key, api_token=api_token, credential=credential, export=export, domain=domain, witness=witness,
        invitation=invitation, invitation_token=link.token, notice=notice, access_request=access_request,
        siem_destination=siem_destination,
    )


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture(scope="session")
def smtp_inbox():
    """aiosmtpd on a free port of 127.0.0.1 for the session, shared by every test that sends real
    email; each test empties ``messages`` first (the ``smtp`` fixtures do)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    inbox.port = port
    yield inbox
    server.stop()


@pytest.fixture
def smtp(settings, smtp_inbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    smtp_inbox.messages.clear()
    return smtp_inbox


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2id costs ~100 ms a hash by design; tests that are not about hashing use a fast one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def local_dns() -> Iterator[str]:
    """A DNS server of the tests' own (no records unless a test adds them): tests never ask the
    internet's DNS, and a lookup answers at once instead of timing out on a closed network."""
    from tests.peers.identity_providers import dns_server

    with dns_server({}) as nameserver:
        yield nameserver


@pytest.fixture(autouse=True)
def dns_for_tests(settings, local_dns):
    settings.BASTION_DNS_NAMESERVERS = [local_dns]


@pytest.fixture(autouse=True)
def object_storage(settings, tmp_path):
    """Each test stores files in its own directory."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "objects")}},
    }
    return tmp_path / "objects"


@pytest.fixture(autouse=True)
def audit_witness(settings, tmp_path):
    """Each test anchors audit checkpoints in its own witness directory."""
    settings.BASTION_AUDIT_ANCHOR_URL = str(tmp_path / "witness")
    return tmp_path / "witness"


@pytest.fixture
def world(db, django_user_model) -> SimpleNamespace:
    """``world.acme`` and ``world.globex``: two organisations that must never see each other."""
    return SimpleNamespace(
        acme=_make_org("acme", "Acme Corp", django_user_model),
        globex=_make_org("globex", "Globex Ltd", django_user_model),
    )


@pytest.fixture
def client_for(client, django_user_model):
    """``client_for(user)``: a Django test client signed in as ``user``, with a second factor when
    they have or need one (tests of password-only sessions sign in through the form instead)."""
    from django.test import Client

    def make(user) -> Client:
        return signed_in_with_second_factor(Client(), user)

    return make


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3 + KMS HTTP endpoint (``moto_server``) for this test session, with dummy credentials."""
    from tests.peers.moto import CREDENTIALS, moto_server

    saved = {key: os.environ.get(key) for key in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        with moto_server() as url:
            yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium through Playwright, one for the whole session: Playwright's sync API runs an
    event loop of its own, and a second one started while it lives fails ("Sync API inside the asyncio
    loop"), so every browser test, in any directory, uses this one (each in its own context)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
