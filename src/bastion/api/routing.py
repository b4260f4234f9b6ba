"""Authorize API operations before their input is parsed.

An operation declares its permission with ``@requires``; this router turns the declaration into
the operation's authentication step, which django-ninja runs before it validates the body. So an
outsider gets 404 and a viewer's write gets 403 whatever they send, instead of a validation
error that would confirm the resource exists.
"""

from __future__ import annotations

from ninja import Router
from ninja.security import SessionAuth
from ninja.constants import NOT_SET

from bastion.records.models import EmissionRecord, EnergyRecord, EvidenceFile, Supplier
from bastion.tenancy.access import NotFound, as_uuid, authorize
from bastion.tenancy.models import Membership, Role

# Path parameters that name an object: resolved (and 404 when not visible) before input parsing.
PATH_OBJECTS = {
    "emission_id": EmissionRecord,
    "energy_id": EnergyRecord,
    "supplier_id": Supplier,
    "evidence_id": EvidenceFile,
    "membership_id": Membership,
    "role_id": Role,
}


def _resolve_path_objects(request, kwargs) -> dict:
    found = {}
    for name, model in PATH_OBJECTS.items():
        if name not in kwargs:
            continue
        queryset = model.objects.all()
        if request.access.project is not None and hasattr(model, "project"):
            queryset = queryset.filter(project=request.access.project)
        found[name] = queryset.filter(id=as_uuid(kwargs[name])).first()
        if found[name] is None:
            raise NotFound()
    return found


class SessionWithPermission(SessionAuth):
    """Layer 1 (session, with CSRF for unsafe methods) then layers 2 and 3 for one permission."""

    def __init__(self, permission: str):
        super().__init__(csrf=True)
        self.permission = permission

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None or not user.is_active:
            return None
        kwargs = request.resolver_match.kwargs
        request.access = authorize(
            user,
            kwargs["org"],
            self.permission,
            workspace_id=kwargs.get("workspace_id"),
            project_id=kwargs.get("project_id"),
        )
        request.path_objects = _resolve_path_objects(request, kwargs)
        return user


class AuthorizingRouter(Router):
    def add_api_operation(self, path, methods, view_func, *, auth=NOT_SET, **kwargs):
        permission = getattr(view_func, "required_permission", None)
        if permission is not None and auth is NOT_SET:
            auth = [SessionWithPermission(permission)]
        super().add_api_operation(path, methods, view_func, auth=auth, **kwargs)
