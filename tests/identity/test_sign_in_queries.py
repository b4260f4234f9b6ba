"""A password sign-in makes a fixed, small number of queries (issue 22): however many sessions the
user already has, and with every check and record still in place (lockout, audit event in the
user's organisations' chains, session list, known clients)."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bastion.audit.models import AuditEvent
from bastion.identity.models import KnownClient, SignInThrottle
from bastion.tenancy import context
from tests.conftest import PASSWORD
from tests.sign_in import sign_in

# What one sign-in of a member of one organisation costs now (statements, savepoints included).
# Raise it only with a reason: each query is a round trip on every sign-in.
MOST_QUERIES = {"postgresql": 57, "sqlite": 46}
EMAIL = "editor@acme.example"


def _sign_in() -> tuple[Client, int]:
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = sign_in(client, EMAIL, PASSWORD, REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Firefox/140")
    assert response.status_code == 302, response.status_code
    assert response.url != "/accounts/login/"
    return client, len(queries.captured_queries)


def _succeeded(organisation) -> int:
    with context.tenant_context(organisation.id):
        return AuditEvent.objects.filter(chain_id=organisation.id, action="auth.login.succeeded").count()


def test_a_sign_in_makes_a_fixed_number_of_queries(world):
    _, first = _sign_in()
    clients = [_sign_in()[0] for _ in range(3)]
    _, later = _sign_in()
    print(f"queries per sign-in on {connection.vendor}: first {first}, with 4 sessions {later}")
    assert later <= MOST_QUERIES[connection.vendor]
    assert later <= first  # not one more per session the user already has
    # Everything a sign-in records is still recorded, in the user's own organisation only.
    assert _succeeded(world.acme.organisation) == 5 and _succeeded(world.globex.organisation) == 0
    sessions = UserSession.objects.filter(user__email=EMAIL)
    assert sessions.count() == 5
    assert {c.session.session_key for c in clients} <= set(sessions.values_list("session_key", flat=True))
    assert KnownClient.objects.filter(user__email=EMAIL).count() == 1
    assert not UserSession.objects.exclude(user__email=EMAIL).exists()


def test_sessions_that_ended_leave_the_list_at_the_next_sign_in(world):
    ended, kept = _sign_in()[0], _sign_in()[0]
    Session.objects.filter(session_key=ended.session.session_key).delete()  # signed out, expired or ended
    _sign_in()
    listed = set(UserSession.objects.filter(user__email=EMAIL).values_list("session_key", flat=True))
    assert ended.session.session_key not in listed and kept.session.session_key in listed
    assert len(listed) == 2


def test_a_session_of_an_older_password_leaves_the_list(world, django_user_model):
    old = _sign_in()[0]
    user = django_user_model.objects.get(email=EMAIL)
    user.set_password(PASSWORD)  # a new hash: sessions signed in with the old one no longer sign in
    user.save()
    _sign_in()
    listed = set(UserSession.objects.filter(user__email=EMAIL).values_list("session_key", flat=True))
    assert old.session.session_key not in listed and len(listed) == 1


def test_a_failure_before_the_success_is_still_cleared(world):
    client = Client()
    sign_in(client, EMAIL, "not the password at all", REMOTE_ADDR="192.0.2.44")
    assert SignInThrottle.objects.filter(key__startswith="account:").exists()
    _sign_in()
    assert not SignInThrottle.objects.filter(key__startswith="account:").exists()
