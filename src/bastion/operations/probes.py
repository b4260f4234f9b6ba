"""Health probes: one function per component of the platform, each returning a ``ProbeResult``.

The minute job (``tasks.status_probes``) runs every component of ``components()`` and stores the
outcome as history (``history.py``); ``/metrics`` reads ``probe_database`` and ``probe_cache``.

Other apps add components without this app importing them (and without importing it, which would
point upwards): an app with a ``status_probes`` module listing ``STATUS_COMPONENTS`` — tuples of
(key, name, check, failing state), where ``check()`` returns a short detail and raises when the
component is not working — is picked up at start. ``backups`` will add its own that way.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache as memoize

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from bastion.operations.models import DEGRADED, DOWN

AUDIT_VERIFICATION_MAX_AGE = datetime.timedelta(hours=26)
QUEUE_DEPTH_LIMIT = 1000  # jobs waiting: beyond this the workers are not keeping up
PROBE_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class ProbeResult:
    component: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class Component:
    key: str
    name: str
    probe: Callable[[], ProbeResult]
    failing_state: str = DEGRADED  # the state a failed probe means: DOWN where nothing works without it


class ProbeFailed(Exception):
    pass


def _timed(component: str, check: Callable[[], str]) -> ProbeResult:
    """Run ``check`` and time it; any exception is the component failing (a probe never raises)."""
    started = time.perf_counter()
    try:
        detail = check() or ""
    except Exception as exc:  # noqa: BLE001  (whatever breaks, the component is not working)
        return ProbeResult(component, False, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"[:300])
    return ProbeResult(component, True, time.perf_counter() - started, detail[:300])


def probe_database() -> ProbeResult:
    def check() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return connection.vendor
    return _timed("database", check)


def probe_cache() -> ProbeResult:
    def check() -> str:
        key, value = f"bastion:status-probe:{secrets.token_hex(8)}", secrets.token_hex(8)
        cache.set(key, value, 30)
        try:
            if cache.get(key) != value:
                raise ProbeFailed("the cache did not return what was written")
        finally:
            cache.delete(key)
        return ""
    return _timed("cache", check)


def _get(path: str) -> tuple[int, bytes]:
    """GET ``path`` from the running site: over HTTP when ``BASTION_STATUS_PROBE_URL`` names it
    (``bastion serve`` sets it to its own address), else through Django's request handler in this
    process (the URL conf, middleware, templates and database, without the network)."""
    base = settings.BASTION_STATUS_PROBE_URL
    host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")), "localhost")
    if base:
        request = urllib.request.Request(base.rstrip("/") + path)
        if urllib.parse.urlsplit(base).hostname not in settings.ALLOWED_HOSTS:
            request.add_header("Host", host)  # the server's own address is not always a name it answers to
        try:
            with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_SECONDS) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, b""
    from django.test import Client  # Django's in-process handler, not a test double

    response = Client(HTTP_HOST=host.strip("[]") if host.startswith("[") else host).get(path)
    return response.status_code, response.content


def _expect_ok(path: str) -> bytes:
    status, body = _get(path)
    if status != 200:
        raise ProbeFailed(f"GET {path} answered {status}")
    return body


def probe_web() -> ProbeResult:
    return _timed("web", lambda: (_expect_ok("/healthz"), "")[1])


def probe_api() -> ProbeResult:
    def check() -> str:
        schema = json.loads(_expect_ok("/api/v1/openapi.json"))
        if "paths" not in schema:
            raise ProbeFailed("the API schema has no paths")
        return ""
    return _timed("api", check)


def probe_sign_in() -> ProbeResult:
    def check() -> str:
        if b'name="password"' not in _expect_ok("/accounts/login/"):
            raise ProbeFailed("the sign-in page has no password field")
        return ""
    return _timed("sign_in", check)


def probe_job_workers() -> ProbeResult:
    """Runs inside the minute job, so a result at all means a worker is alive; the page itself marks
    the workers down when the newest probe run is older than a few minutes (``summary.py``)."""
    def check() -> str:
        from huey.contrib.djhuey import HUEY

        waiting = HUEY.pending_count()
        if waiting > QUEUE_DEPTH_LIMIT:
            raise ProbeFailed(f"{waiting} jobs waiting")
        return f"{waiting} jobs waiting"
    return _timed("job_workers", check)


def probe_object_storage() -> ProbeResult:
    """Write, read back and delete a small object in the configured store (local or S3)."""
    def check() -> str:
        payload = secrets.token_bytes(32)
        name = default_storage.save(f"status-probe/{secrets.token_hex(8)}", ContentFile(payload))
        try:
            with default_storage.open(name, "rb") as handle:
                if handle.read() != payload:
                    raise ProbeFailed("the object read back differs from the one written")
        finally:
            default_storage.delete(name)
        return type(default_storage._wrapped).__name__ if hasattr(default_storage, "_wrapped") else ""
    return _timed("object_storage", check)


def probe_kms() -> ProbeResult:
    """A real wrap and unwrap round trip with the platform's own key, through the configured provider."""
    def check() -> str:
        from bastion.crypto import kms
        from bastion.db.platform import PLATFORM_ID

        provider, key, context = kms.provider(), secrets.token_bytes(32), b"bastion status probe"
        if provider.unwrap(provider.wrap(key, context, owner=PLATFORM_ID), context) != key:
            raise ProbeFailed("the unwrapped key differs from the wrapped one")
        return provider.name
    return _timed("kms", check)


def probe_email() -> ProbeResult:
    """Connect to the SMTP server and say NOOP; nothing to check when mail is printed to the console."""
    def check() -> str:
        from django.core.mail import get_connection

        from bastion.operations.email_backend import delivery_backend

        if delivery_backend() != "django.core.mail.backends.smtp.EmailBackend":
            return "not sent by SMTP here"
        backend = get_connection(delivery_backend(), timeout=PROBE_TIMEOUT_SECONDS)
        backend.open()
        try:
            code, _ = backend.connection.noop()
            if code != 250:
                raise ProbeFailed(f"NOOP answered {code}")
        finally:
            backend.close()
        return ""
    return _timed("email", check)


def probe_audit_verification(*, now: datetime.datetime | None = None) -> ProbeResult:
    """The newest verification run was good and is less than 26 hours old (the job runs daily).
    A platform watched for less than that, never verified yet, is not failing.

    It reads the platform chain's result of each run (row-level security shows the job no tenant's
    results); a broken tenant chain also raises the alarm of ``audit.alerts`` on its own."""
    def check() -> str:
        from bastion.audit.models import VerificationResult
        from bastion.db.platform import PLATFORM_ID
        from bastion.operations.models import ComponentInterval
        from bastion.tenancy import context

        moment = now or timezone.now()
        with context.platform_scope():
            newest = VerificationResult.objects.filter(chain_id=PLATFORM_ID).order_by("-finished_at").first()
        if newest is None:
            watched_since = ComponentInterval.objects.order_by("started_at").values_list("started_at", flat=True).first()
            if watched_since is None or moment - watched_since < AUDIT_VERIFICATION_MAX_AGE:
                return "first verification pending"
            raise ProbeFailed("never verified")
        if not newest.ok:
            raise ProbeFailed("the last verification found a broken chain")
        age = moment - newest.finished_at
        if age > AUDIT_VERIFICATION_MAX_AGE:
            raise ProbeFailed(f"the last good verification is {age.total_seconds() / 3600:.0f} h old")
        return f"verified {age.total_seconds() / 3600:.1f} h ago"
    return _timed("audit_verification", check)


BUILT_IN = (
    Component("web", "Web", probe_web, DOWN),
    Component("api", "API", probe_api, DOWN),
    Component("sign_in", "Sign-in", probe_sign_in, DOWN),
    Component("database", "Database", probe_database, DOWN),
    Component("cache", "Cache", probe_cache, DEGRADED),
    Component("job_workers", "Job workers", probe_job_workers, DEGRADED),
    Component("object_storage", "Object storage", probe_object_storage, DEGRADED),
    Component("kms", "Key management", probe_kms, DEGRADED),
    Component("email", "Email", probe_email, DEGRADED),
    Component("audit_verification", "Audit verification", probe_audit_verification, DEGRADED),
)


@memoize
def components() -> tuple[Component, ...]:
    """The built-in components, then those other apps declare in their ``status_probes`` modules."""
    found = list(BUILT_IN)
    for app in apps.get_app_configs():
        if app.name.startswith("bastion.") and module_has_submodule(app.module, "status_probes"):
            module = importlib.import_module(f"{app.name}.status_probes")
            for key, name, check, failing_state in getattr(module, "STATUS_COMPONENTS", ()):
                found.append(Component(key, name, functools.partial(_timed, key, check), failing_state))
    keys = [component.key for component in found]
    if len(keys) != len(set(keys)):
        raise ValueError(f"status components declared twice: {sorted(k for k in keys if keys.count(k) > 1)}")
    return tuple(found)
