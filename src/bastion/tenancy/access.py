"""The one function that decides who may do what: ``authorize``.

Every request passes three layers, in order:

1. **principal** — a valid session or API credential (``Unauthenticated`` → 401 / sign-in page);
2. **membership** — the principal is a member of the organisation named in the URL
   (``NotFound`` → 404, so another organisation's existence never leaks); platform staff are
   members of nothing: for them this layer is a grant the organisation approved and that is open
   now (session → grant → resource), found by the resolver ``support_access`` registers;
3. **permission** — the effective role on the resource (project, else workspace, else
   organisation) holds the declared permission (``Forbidden`` → 403; ``NotFound`` when the
   resource is not even visible to the principal).

Views and API operations declare their permission with ``@requires("records.edit")``; a view
without a declaration is refused by a test that walks the URL conf. Deny by default.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from bastion.crypto.api_key_auth import ApiKeyPrincipal
from bastion.tenancy import access_cache, context, replica_reads
from bastion.tenancy.models import SLUG_PATTERN, Membership, Organisation, Project, Role, Workspace
from bastion.tenancy.permissions import ORGANISATION_ONLY, PERMISSIONS, Grant

SLUG = re.compile(SLUG_PATTERN)

# What a member whose grants are all lower down (a workspace or project) sees of the organisation.
_MEMBER_BASELINE = frozenset({"organisation.view", "workspaces.view"})

# Who may be acting: a signed-in user, nobody yet, or an API key.
Principal = AbstractBaseUser | AnonymousUser | ApiKeyPrincipal
_View = TypeVar("_View", bound=Callable[..., Any])


class AccessDenied(Exception):
    status = 403
    code = "forbidden"
    message = "You do not have permission to do this."


class Unauthenticated(AccessDenied):
    status = 401
    code = "not_authenticated"
    message = "Sign in or send an API credential."


class NotFound(AccessDenied):
    status = 404
    code = "not_found"
    message = "Not found."


class Forbidden(AccessDenied):
    pass


@dataclass
class Access:
    """What ``authorize`` established for the current request."""

    user: object
    organisation: Organisation
    grants: Sequence[Grant]
    workspace: Workspace | None = None
    project: Project | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    checked_permission: str = ""

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def organisation_grant(self) -> Grant | None:
        return next((g for g in self.grants if g.scope == "organisation"), None)

    def permissions_for(self, *, workspace: Workspace | None = None, project: Project | None = None) -> frozenset[str]:
        """Effective permissions on a resource: the most specific grant wins."""
        chosen: Grant | None = None
        if project is not None:
            chosen = next((g for g in self.grants if g.project_id == project.id), None)
            workspace = workspace or Workspace(id=project.workspace_id)
        if chosen is None and workspace is not None:
            chosen = next((g for g in self.grants if g.workspace_id == workspace.id), None)
        if chosen is not None:
            return chosen.permissions() - ORGANISATION_ONLY
        if self.organisation_grant is not None:
            return self.organisation_grant.permissions()
        if project is None and workspace is not None and any(
            isinstance(g, Membership) and g.project is not None and g.project.workspace_id == workspace.id
            for g in self.grants
        ):
            return frozenset({"workspaces.view", "projects.view"})
        if project is None and workspace is None:
            return _MEMBER_BASELINE
        return frozenset()

    def visible_workspaces(self) -> QuerySet[Workspace]:
        queryset = Workspace.objects.all()
        if self.organisation_grant is not None:
            return queryset
        ids = {g.workspace_id for g in self.grants if g.workspace_id}
        ids |= {g.project.workspace_id for g in self.grants if isinstance(g, Membership) and g.project is not None}
        return queryset.filter(id__in=ids)

    def visible_projects(self, workspace: Workspace | None = None) -> QuerySet[Project]:
        queryset = Project.objects.select_related("workspace")
        if workspace is not None:
            queryset = queryset.filter(workspace=workspace)
        if self.organisation_grant is not None:
            return queryset
        ws_ids = {g.workspace_id for g in self.grants if g.workspace_id}
        project_ids = {g.project_id for g in self.grants if g.project_id}
        return queryset.filter(Q(workspace_id__in=ws_ids) | Q(id__in=project_ids))


def as_uuid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError) as exc:
        raise NotFound() from exc


class KeyGrant:
    """What an API key may do: its scopes, capped by what its creator may still do now."""

    scope = "organisation"
    workspace_id = project_id = custom_role_id = None

    def __init__(self, permissions: frozenset[str]) -> None:
        self._permissions = permissions

    def permissions(self) -> frozenset[str]:
        return self._permissions


def _key_grants(principal: ApiKeyPrincipal, organisation_slug: str) -> tuple[Organisation, list[KeyGrant]]:
    """Layer 2 for an API key: it belongs to exactly one organisation, the one in the path."""
    if principal.created_by_id is not None:
        cached = access_cache.key_grants(principal.key_id, principal.created_by_id, organisation_slug)
        if cached is not None and cached[0].id == uuid.UUID(principal.organisation_id):
            return cached[0], [KeyGrant(principal.scopes & cached[1])]
    context.activate(uuid.UUID(principal.organisation_id))
    organisation = Organisation.objects.filter(id=principal.organisation_id, slug=organisation_slug).first()
    if organisation is None:
        raise NotFound()
    if principal.created_by_id is None:
        raise Unauthenticated()  # its creator's account is gone: the key is dead
    creator = Membership.objects.filter(user_id=principal.created_by_id, user__is_active=True, workspace__isnull=True,
                                        project__isnull=True).select_related("custom_role").first()
    if creator is None:
        raise Unauthenticated()  # its creator has left the organisation, or their account is disabled: the key is dead
    # The version read with the organisation, before the membership: newer grants under an older
    # version are only ever refreshed early, never kept late.
    access_cache.keep_key_grants(principal.key_id, principal.created_by_id, organisation_slug, organisation,
                                 creator.permissions())
    return organisation, [KeyGrant(principal.scopes & creator.permissions())]


# Finds a staff account's open grants in the named organisation (and activates it), or None. Set by
# ``bastion.support_access`` at start-up: tenancy may not import the app that owns grants. Unset,
# staff get nothing.
StaffGrantResolver = Callable[[Any, str], "tuple[Organisation, Sequence[Grant]] | None"]
_staff_grant_resolver: StaffGrantResolver | None = None


def register_staff_grant_resolver(resolver: StaffGrantResolver) -> None:
    global _staff_grant_resolver
    _staff_grant_resolver = resolver


def _staff_grants(user: AbstractBaseUser, organisation_slug: str) -> tuple[Organisation, Sequence[Grant]]:
    context.bind_user(user.pk)
    found = _staff_grant_resolver(user, organisation_slug) if _staff_grant_resolver is not None else None
    if found is None:
        raise NotFound()
    return found


def authorize(
    user: Principal | None,
    organisation_slug: str,
    permission: str,
    *,
    workspace_id: object = None,
    project_id: object = None,
) -> Access:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    # Layer 1: an authenticated, active principal.
    if user is None or isinstance(user, AnonymousUser) or not getattr(user, "is_authenticated", False) \
            or not user.is_active:
        raise Unauthenticated()
    replica_reads.bind_principal(user)  # this principal's reads are never older than its writes

    # Layer 2: membership of the organisation named in the request.
    if not isinstance(organisation_slug, str) or not SLUG.fullmatch(organisation_slug):
        raise NotFound()
    organisation, grants = _grants_of(user, organisation_slug)
    access = Access(user=user, organisation=organisation, grants=grants)

    # Layer 3: the permission on the resource the request is about.
    if project_id is not None:
        access.project = access_cache.project(organisation, as_uuid(project_id))
        if access.project is None:
            raise NotFound()
        access.workspace = access.project.workspace
        if workspace_id is not None and as_uuid(workspace_id) != access.workspace.id:
            raise NotFound()
    elif workspace_id is not None:
        access.workspace = Workspace.objects.filter(id=as_uuid(workspace_id)).first()
        if access.workspace is None:
            raise NotFound()
    access.permissions = access.permissions_for(workspace=access.workspace, project=access.project)
    if not access.permissions:
        raise NotFound()
    if permission not in access.permissions:
        raise Forbidden()
    access.checked_permission = permission
    return access


def _grants_of(user: AbstractBaseUser | ApiKeyPrincipal, organisation_slug: str) -> tuple[Organisation, Sequence[Grant]]:
    """Layer 2: an API key's scopes, a staff account's open grants, or a member's memberships."""
    if isinstance(user, ApiKeyPrincipal):
        return _key_grants(user, organisation_slug)
    if getattr(user, "staff_role", ""):
        return _staff_grants(user, organisation_slug)
    return _member_grants(user, organisation_slug)


def _member_grants(user: AbstractBaseUser, organisation_slug: str) -> tuple[Organisation, list[Membership]]:
    cached = access_cache.member_grants(user.pk, organisation_slug)
    if cached is not None:
        return cached
    context.bind_user(user.pk)
    grants = list(
        Membership.all_tenants.filter(user_id=user.pk, organisation__slug=organisation_slug).select_related(
            "organisation"
        )
    )
    if not grants:
        raise NotFound()
    organisation = grants[0].organisation
    context.activate(organisation.id)
    custom_ids = {g.custom_role_id for g in grants if g.custom_role_id}
    project_ids = {g.project_id for g in grants if g.project_id}
    roles = Role.objects.in_bulk(custom_ids) if custom_ids else {}
    projects = Project.objects.in_bulk(project_ids) if project_ids else {}
    for grant in grants:
        if grant.custom_role_id:
            grant.custom_role = roles[grant.custom_role_id]
        if grant.project_id:
            grant.project = projects[grant.project_id]
    # ``organisation.access_version`` was read in the same statement as the memberships, before the
    # roles and projects: anything read after it is at least as new, so the entry is never stale.
    access_cache.keep_member_grants(user.pk, organisation_slug, organisation, grants)
    return organisation, grants


class AuthorizedRequest(HttpRequest):
    """A request as a view declared with ``requires`` receives it; ``principal`` is set for an API key."""

    access: Access
    principal: ApiKeyPrincipal | None


def requires(permission: str) -> Callable[[_View], _View]:
    """Declare the permission a view or API operation needs; the view receives ``request.access``.

    The view must take the organisation slug as ``org`` and, when it acts on one, the workspace
    and project as ``workspace_id`` / ``project_id`` keyword arguments.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view: _View) -> _View:
        @functools.wraps(view)
        def wrapper(request: AuthorizedRequest, *args: Any, **kwargs: Any) -> Any:
            already = getattr(request, "access", None)
            if already is not None and already.checked_permission == permission:
                return view(request, *args, **kwargs)  # the API authorized before parsing input
            request.access = authorize(
                getattr(request, "principal", None) or request.user,
                kwargs["org"],
                permission,
                workspace_id=kwargs.get("workspace_id"),
                project_id=kwargs.get("project_id"),
            )
            return view(request, *args, **kwargs)

        setattr(wrapper, "required_permission", permission)  # noqa: B010 (a function attribute mypy cannot see)
        return cast(_View, wrapper)

    return decorator


def public(view: _View) -> _View:
    """Mark a view as deliberately open to anyone (sign-in page, health check, OpenAPI)."""
    setattr(view, "public", True)  # noqa: B010 (a function attribute mypy cannot see)
    return view


def authenticated(view: _View) -> _View:
    """Mark a view as open to any signed-in user, outside any organisation (e.g. choosing one)."""

    @functools.wraps(view)
    def wrapper(request: AuthorizedRequest, *args: Any, **kwargs: Any) -> Any:
        user = getattr(request, "principal", None) or request.user
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            raise Unauthenticated()
        context.bind_user(user.pk)
        return view(request, *args, **kwargs)

    setattr(wrapper, "requires_authentication", True)  # noqa: B010 (a function attribute mypy cannot see)
    return cast(_View, wrapper)


def organisations_of(user: Principal) -> QuerySet[Organisation]:
    """The organisations ``user`` is a member of (layer 2, for choosing one); an API key's one."""
    if isinstance(user, ApiKeyPrincipal):
        context.activate(uuid.UUID(user.organisation_id))
        return Organisation.objects.filter(id=user.organisation_id)
    context.bind_user(user.pk)
    if isinstance(user, AnonymousUser):
        return Organisation.objects.none()
    ids = Membership.all_tenants.filter(user_id=user.pk).values_list("organisation_id", flat=True)
    return Organisation.objects.filter(id__in=ids).order_by("name")
