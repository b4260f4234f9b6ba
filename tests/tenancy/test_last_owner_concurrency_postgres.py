"""Two owners demoting or removing each other at the same moment, on PostgreSQL: the organisation
keeps one owner. Each change runs on its own connection in its own transaction, as two requests do
(ATOMIC_REQUESTS), and neither commits until both have made their change — or until one has waited
a moment for a lock the other holds."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership
from tests.audit.db_tampering import committed, forget, run_threads
from tests.conftest import PASSWORD

pytestmark = pytest.mark.postgres_only

PAUSE_SECONDS = 2  # how long a change waits for the other before committing


@pytest.fixture
def two_owners(db):
    """A committed organisation with two owners, removed again afterwards."""
    suffix = uuid.uuid4().hex[:8]

    def make():
        users = [get_user_model().objects.create_user(email=f"{name}-{suffix}@duo.example", password=PASSWORD,
                                                      email_verified=True) for name in ("ann", "bob")]
        organisation = actions.create_organisation(name="Duo", slug=f"duo-{suffix}", owner=users[0])
        with context.tenant_context(organisation.id):
            actions.add_membership(organisation, user=users[1], role="owner")
        return organisation, users

    organisation, users = committed(make)
    chain_id = str(organisation.id)
    yield organisation, users

    def clean_up():
        actions.delete_organisation(organisation)
        get_user_model().objects.filter(id__in=[user.id for user in users]).delete()

    committed(clean_up)
    forget(chain_id)


def _at_once(organisation, changes) -> list[str]:
    """Run each ``(change, actor, target)`` in a thread of its own; returns what each refusal said."""
    barrier = threading.Barrier(len(changes))

    def run(index):
        change, actor, target = changes[index]
        with context.tenant_context(organisation.id):
            change(Membership.objects.get(user=target, workspace=None, project=None),
                   list(Membership.objects.filter(user=actor)))
            try:
                barrier.wait(timeout=PAUSE_SECONDS)
            except threading.BrokenBarrierError:
                pass  # the other is waiting for a lock this transaction holds

    errors = run_threads(run, len(changes))
    return [error.error_dict["role"][0].code if isinstance(error, ValidationError) else repr(error)
            for error in errors]


def demote(membership, grants):
    actions.change_membership_role(membership, role="admin", grantor_grants=grants)


def remove(membership, grants):
    actions.remove_membership(membership, grantor_grants=grants)


@pytest.mark.parametrize("first, second", [(demote, demote), (remove, demote), (remove, remove)],
                         ids=["demote-demote", "remove-demote", "remove-remove"])
def test_two_owners_taking_each_other_out_at_once_leave_one(two_owners, first, second):
    organisation, (ann, bob) = two_owners
    refusals = _at_once(organisation, [(first, ann, bob), (second, bob, ann)])
    assert refusals == ["last_owner"], refusals  # one went through, the other was refused
    with context.tenant_context(organisation.id):
        owners = Membership.objects.filter(workspace=None, project=None, builtin_role="owner")
        assert owners.count() == 1
