"""People in the read-access log, as in the audit log (format 2): a person is recorded by their
pseudonym in the organisation's chain (``audit.personal``), never their email or name, so erasing
them (which deletes the pseudonym) leaves every batch verifiable and naming nobody."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from bastion.access_log.models import AccessBatch
from bastion.audit import personal
from bastion.audit.context import Actor
from bastion.audit.models import Pseudonym


def _is_person(actor: Actor) -> bool:
    return actor.type in personal.PERSON_ACTORS and str(actor.id).isdigit()


def recorded(organisation_id: uuid.UUID, actor: Actor) -> tuple[str, str]:
    """(actor id, actor label) as a batch records them."""
    if _is_person(actor):
        return personal.pseudonym_of(str(organisation_id), user_id=int(actor.id)), ""
    return str(actor.id), actor.label


def known_pseudonym(organisation_id: uuid.UUID, actor: Actor) -> QuerySet[Pseudonym, Any] | None:
    """The query of the person's existing pseudonym in the organisation's chain, None for other actors."""
    return personal.existing_pseudonym(str(organisation_id), int(actor.id)) if _is_person(actor) else None


def labels(batches: Iterable[AccessBatch]) -> dict[uuid.UUID, str]:
    """Each batch's actor as people read it: the person's address while they are known, "erased person" after."""
    batches = list(batches)
    pseudonyms = {b.actor_id for b in batches if personal.PSEUDONYM.fullmatch(b.actor_id or "")}
    users = dict(Pseudonym.objects.filter(pseudonym__in=pseudonyms).values_list("pseudonym", "user_id"))
    emails = dict(get_user_model().objects.filter(pk__in=[u for u in users.values() if u is not None])
                  .values_list("pk", "email"))
    shown = {}
    for batch in batches:
        if batch.actor_id not in pseudonyms:
            shown[batch.pk] = batch.actor_label
            continue
        user_id = users.get(batch.actor_id)
        shown[batch.pk] = (emails.get(user_id) if user_id is not None else None) or personal.ERASED
    return shown


def actor_ids(organisation_id: uuid.UUID, actor: str) -> list[str]:
    """What a search for a person (email or account id) matches in the organisation's batches."""
    wanted = [actor]
    accounts = get_user_model().objects
    user = (accounts.filter(pk=int(actor)) if actor.isdigit() else accounts.filter(email__iexact=actor)).first()
    if user is not None:
        wanted += personal.pseudonyms_of_user(str(organisation_id), user.pk)
    return wanted
