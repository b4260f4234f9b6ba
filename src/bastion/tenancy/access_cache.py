"""Layer 2 without its round trips: a principal's grants in an organisation, cached per worker
process and validated on every request against the organisation's ``access_version``.

``Organisation.access_version`` is bumped (``UPDATE … SET access_version = access_version + 1``)
in the same transaction as every change to who may do what in the organisation: a membership
added, changed or removed (directly, by SCIM or by a cascade), a custom role saved or deleted, a
workspace or project changed, the organisation itself changed. The receivers below are connected
to the models' own ``post_save``/``post_delete`` signals, so no action can forget it.

A cached entry is used only when the version read **now**, in this request's transaction, equals
the version read together with (or before) the grants it holds, so a revocation takes effect on
the next request: the check is the same statement that sets the request's RLS context, so it
costs no extra round trip. An entry is stored only once its transaction has committed
(``on_commit``): grants read after an uncommitted bump that is later rolled back are never kept.
Account state is not cached: the session's user is loaded on every request (``is_active`` is
checked by ``authorize``) and an API key's creator is re-checked in the same statement.

On any doubt (no row, another version, RLS hiding the organisation) the entry is dropped and the
grants are read from the database as before: failure is a cache miss, never a grant.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Model

from bastion.tenancy import context
from bastion.tenancy.models import Membership, Organisation, Project, Role, Workspace

MAX_ENTRIES = 4096

_ORG_FIELDS = [f.attname for f in Organisation._meta.concrete_fields]
_MEMBERSHIP_FIELDS = [f.attname for f in Membership._meta.concrete_fields]
_ROLE_FIELDS = [f.attname for f in Role._meta.concrete_fields]
_PROJECT_FIELDS = [f.attname for f in Project._meta.concrete_fields]


@dataclass(frozen=True)
class Entry:
    organisation_id: uuid.UUID
    version: int
    organisation: tuple[Any, ...]
    # Each membership's values, its custom role's values (or None) and its project's values (or None).
    grants: tuple[tuple[tuple[Any, ...], tuple[Any, ...] | None, tuple[Any, ...] | None], ...] = ()
    creator_permissions: frozenset[str] = frozenset()


_entries: dict[tuple[Any, ...], Entry] = {}
_lock = threading.Lock()


def bump(organisation_id: uuid.UUID | str) -> None:
    """Make every cached authorization in the organisation stale, in the current transaction."""
    Organisation.objects.filter(id=organisation_id).update(access_version=F("access_version") + 1)


def clear() -> None:
    with _lock:
        _entries.clear()
        _projects.clear()


def _values(instance: Model, fields: list[str]) -> tuple[Any, ...]:
    return tuple(getattr(instance, name) for name in fields)


def _store(key: tuple[Any, ...], entry: Entry) -> None:
    def store() -> None:
        with _lock:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[key] = entry

    transaction.on_commit(store)


def _validate(key: tuple[Any, ...], organisation_slug: str, *, user_id: object = None,
              creator_id: int | None = None) -> Entry | None:
    """The entry if still current, having entered its organisation (and user); else None, nothing entered."""
    entry = _entries.get(key)
    if entry is None:
        return None
    settings_sql: list[str] = []
    params: list[Any] = []
    if connection.vendor == "postgresql":
        if not connection.in_atomic_block:
            raise RuntimeError("the tenant context needs a transaction: wrap the work in transaction.atomic()")
        if user_id is not None:
            settings_sql.append("set_config('bastion.user_id', %s, true)")
            params.append(str(user_id))
        settings_sql.append("set_config('bastion.org_id', %s, true)")
        params.append(str(entry.organisation_id))
    organisation_table = connection.ops.quote_name(Organisation._meta.db_table)
    checks = [f"(SELECT access_version FROM {organisation_table} WHERE id = %s AND slug = %s)"]
    params += [entry.organisation_id.hex if connection.vendor == "sqlite" else entry.organisation_id, organisation_slug]
    if creator_id is not None:
        from django.contrib.auth import get_user_model

        user_table = connection.ops.quote_name(get_user_model()._meta.db_table)
        checks.append(f"(SELECT is_active FROM {user_table} WHERE id = %s)")
        params.append(creator_id)
    # The settings first: the subqueries run under the organisation just set (RLS), and if they did
    # not see it, no row → a miss.
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(settings_sql + checks), params)
        row = cursor.fetchone()[len(settings_sql):]
    if row[0] != entry.version or (creator_id is not None and not row[1]):
        with _lock:
            _entries.pop(key, None)
        if connection.vendor == "postgresql":
            context.clear()  # undo the settings: the database path starts from nothing
        return None
    context.enter(user_id, entry.organisation_id)
    return entry


def _organisation(entry: Entry) -> Organisation:
    return Organisation.from_db("default", _ORG_FIELDS, list(entry.organisation))


def member_grants(user_id: object, organisation_slug: str) -> tuple[Organisation, list[Membership]] | None:
    """A member's cached grants, if current (the organisation and user are then active); else None."""
    entry = _validate(("member", user_id, organisation_slug), organisation_slug, user_id=user_id)
    if entry is None:
        return None
    grants = []
    for values, role, project in entry.grants:
        grant = Membership.from_db("default", _MEMBERSHIP_FIELDS, list(values))
        if role is not None:
            grant.custom_role = Role.from_db("default", _ROLE_FIELDS, list(role))
        if project is not None:
            grant.project = Project.from_db("default", _PROJECT_FIELDS, list(project))
        grants.append(grant)
    return _organisation(entry), grants


def keep_member_grants(user_id: object, organisation_slug: str, organisation: Organisation,
                       grants: Sequence[Membership]) -> None:
    """Keep grants read from the database; ``organisation.access_version`` was read with (or before) them."""
    entry = Entry(
        organisation_id=organisation.id, version=organisation.access_version,
        organisation=_values(organisation, _ORG_FIELDS),
        grants=tuple((_values(g, _MEMBERSHIP_FIELDS),
                      _values(g.custom_role, _ROLE_FIELDS) if g.custom_role_id and g.custom_role else None,
                      _values(g.project, _PROJECT_FIELDS) if g.project_id and g.project else None)
                     for g in grants),
    )
    _store(("member", user_id, organisation_slug), entry)


def key_grants(key_id: str, creator_id: int, organisation_slug: str) -> tuple[Organisation, frozenset[str]] | None:
    """An API key's organisation and its creator's current permissions, if current; else None."""
    entry = _validate(("key", key_id, creator_id, organisation_slug), organisation_slug, creator_id=creator_id)
    if entry is None:
        return None
    return _organisation(entry), entry.creator_permissions


def keep_key_grants(key_id: str, creator_id: int, organisation_slug: str, organisation: Organisation,
                    creator_permissions: frozenset[str]) -> None:
    entry = Entry(organisation_id=organisation.id, version=organisation.access_version,
                  organisation=_values(organisation, _ORG_FIELDS), creator_permissions=creator_permissions)
    _store(("key", key_id, creator_id, organisation_slug), entry)


_WORKSPACE_FIELDS = [f.attname for f in Workspace._meta.concrete_fields]
_projects: dict[tuple[uuid.UUID, int, uuid.UUID], tuple[tuple[Any, ...], tuple[Any, ...]]] = {}


def project(organisation: Organisation, project_id: uuid.UUID) -> Project | None:
    """The organisation's project (its workspace joined), from the cache when it was read under the
    organisation's current ``access_version`` — the one ``organisation`` carries: validated this
    request on a hit, read in this transaction before the project otherwise. Every project and
    workspace change bumps the version, so an entry is never used after one."""
    key = (organisation.id, organisation.access_version, project_id)
    found = _projects.get(key)
    if found is not None:
        instance = Project.from_db("default", _PROJECT_FIELDS, list(found[0]))
        instance.workspace = Workspace.from_db("default", _WORKSPACE_FIELDS, list(found[1]))
        return instance
    fetched = Project.objects.select_related("workspace").filter(id=project_id).first()
    if fetched is not None and fetched.organisation_id == organisation.id:
        values = (_values(fetched, _PROJECT_FIELDS), _values(fetched.workspace, _WORKSPACE_FIELDS))

        def store() -> None:
            with _lock:
                if len(_projects) >= MAX_ENTRIES:
                    _projects.clear()
                _projects[key] = values

        transaction.on_commit(store)
    return fetched


def _changed(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # fixtures being loaded
    if isinstance(instance, Organisation):
        if not kwargs.get("created"):
            bump(instance.id)
        return
    bump(getattr(instance, "organisation_id"))  # noqa: B009 (every tenant model has it; Model does not say so)


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    for model in (Membership, Role, Workspace, Project, Organisation):
        name = model._meta.model_name
        post_save.connect(_changed, sender=model, dispatch_uid=f"bastion.access_cache.save.{name}")
        if model is not Organisation:
            post_delete.connect(_changed, sender=model, dispatch_uid=f"bastion.access_cache.delete.{name}")
