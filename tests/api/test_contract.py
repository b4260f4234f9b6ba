"""The API contract tells the truth: schemathesis, with every default check, against the real WSGI
application, signed in as acme's owner (password and TOTP, a session cookie with its CSRF token).

Every status an operation answers is documented, with the error schema; every body matches its
schema; invalid input is refused with a 4xx, valid input is not refused as invalid. Path parameters
are acme's own ids, so the fuzzer stays inside the owner's organisation (globex is never touched);
rate limits are off for the run through settings.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings as django_settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode

from bastion.api import api
from tests.conftest import PASSWORD
from tests.sign_in import sign_in, totp_code
from tests.tenancy.test_isolation_matrix import PARAMS

SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
WSGI = get_wsgi_application()


def _app(environ, start_response):
    # A WSGI server always names the peer; schemathesis's in-process client does not.
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    return WSGI(environ, start_response)


SCHEMA.app = _app
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = int(os.environ.get("BASTION_CONTRACT_EXAMPLES", "4"))
CSRF = "c" * 32
AGENT = "bastion-contract-test"


def _has_input(operation) -> bool:
    return bool(list(operation.iter_parameters())) or bool(operation.body)


CASES = [
    (op, mode) for op in OPERATIONS for mode in GenerationMode if mode == GenerationMode.POSITIVE or _has_input(op)
]


def _signed_in_owner(user) -> str:
    """The session id of acme's owner, signed in through the real forms: password, then TOTP."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    browser = Client(HTTP_USER_AGENT=AGENT)
    assert sign_in(browser, user.email, PASSWORD).url == reverse("mfa_authenticate")
    assert browser.post(reverse("mfa_authenticate"), {"code": totp_code(secret)}).status_code == 302
    return browser.cookies[django_settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the database connection around each request; in a test, that would be
    the test's own transaction. Django's test client disconnects the same signals during each of its
    requests (and connects them again after), so call this after the last test-client request."""

    def keep():
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)

    yield keep
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def no_rate_limits(settings):
    settings.BASTION_RATE_LIMITS = {
        f"{rule}_{key}": "off" for rule in ("API_READ", "API_WRITE") for key in ("IDENTITY", "ORGANISATION")
    }


@pytest.mark.parametrize(
    ("operation", "mode"),
    CASES,
    ids=lambda x: x.value if isinstance(x, GenerationMode) else f"{x.method.upper()} {x.path}",
)
def test_every_answer_is_documented(operation, mode, world, no_rate_limits, keep_connection):
    session = _signed_in_owner(world.acme.users["owner"])
    keep_connection()
    headers = {"User-Agent": AGENT, "X-CSRFToken": CSRF}
    path_parameters = {p.name: str(PARAMS[p.name](world.acme)) for p in operation.path_parameters}

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def run(data):
        case = data.draw(operation.as_strategy(mode, path_parameters=path_parameters))
        # The owner's session is this case's credential (the probes of ``ignored_auth`` remove it).
        case.cookies = {
            **(case.cookies or {}),
            django_settings.SESSION_COOKIE_NAME: session,
            django_settings.CSRF_COOKIE_NAME: CSRF,
        }
        if case.headers:
            case.headers.pop("Authorization", None)
        case._has_explicit_auth = True
        case.call_and_validate(headers=headers)

    run()


def test_the_served_document_validates_and_documents_every_refusal(client, db):
    document = client.get("/api/v1/openapi.json").json()
    validate(document)  # openapi-spec-validator: a valid OpenAPI 3.1 document
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert {"400", "404", "409", "413", "422", "429"} <= statuses, (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= statuses, (method, path)
            assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)
            assert operation["responses"]["422"]["content"]["application/json"]["schema"]


def test_a_rate_limited_answer_carries_retry_after(world, client_for, settings):
    settings.BASTION_RATE_LIMITS = {"API_READ_IDENTITY": "2/m"}
    owner = client_for(world.acme.users["owner"])
    answers = [owner.get("/api/v1/orgs/acme/members") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[-1]["Retry-After"]) >= 1
    assert answers[-1].json()["error"]["code"] == "rate_limited"


def test_recreating_an_existing_slug_is_a_conflict(world, client_for):
    owner = client_for(world.acme.users["owner"])
    again = owner.post(
        "/api/v1/orgs", json.dumps({"name": "Acme again", "slug": "acme"}), content_type="application/json"
    )
    assert again.status_code == 409
    assert again.json()["error"]["fields"]["slug"][0]["code"] == "slug_taken"
