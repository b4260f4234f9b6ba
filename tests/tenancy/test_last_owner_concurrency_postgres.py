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
from django.db import connection

from bastion.tenancy import actions, context
from bastion.tenancy.models import Membership
from tests.audit.db_tampering import committed, forget
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
    """Run each ``change(grant, other_grant)`` in a thread of its own; returns "done" or the
    refusal's code for each."""
    barrier = threading.Barrier(len(changes))
    outcomes = [""] * len(changes)

    def run(index):
        try:
            with context.tenant_context(organisation.id):
                change, actor, target = changes[index]
                grants = list(Membership.objects.filter(user=actor))
                change(Membership.objects.get(user=target, workspace=None, project=None), grants)
                try:
                    barrier.wait(timeout=PAUSE_SECONDS)
                except threading.BrokenBarrierError:
                    pass  # the other is waiting for a lock this transaction holds
            outcomes[index] = "done"
        except ValidationError as refused:
            outcomes[index] = refused.error_dict["role"][0].code
        except Exception as exc:  # noqa: BLE001  (reported in the assertion below)
            outcomes[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(changes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def demote(membership, grants):
    actions.change_membership_role(membership, role="admin", grantor_grants=grants)


def remove(membership, grants):
    actions.remove_membership(membership, grantor_grants=grants)


@pytest.mark.parametrize("first, second", [(demote, demote), (remove, demote), (remove, remove)],
                         ids=["demote-demote", "remove-demote", "remove-remove"])
def test_two_owners_taking_each_other_out_at_once_leave_one(two_owners, first, second):
    organisation, (ann, bob) = two_owners
    outcomes = _at_once(organisation, [(first, ann, bob), (second, bob, ann)])
    assert sorted(outcomes) == ["done", "last_owner"], outcomes
    with context.tenant_context(organisation.id):
        owners = Membership.objects.filter(workspace=None, project=None, builtin_role="owner")
        assert owners.count() == 1
