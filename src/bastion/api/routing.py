"""Authorize API operations before their input is parsed.

An operation declares its permission with ``@requires``; this router turns the declaration into
the operation's authentication step, which django-ninja runs before it validates the body. So an
outsider gets 404 and a viewer's write gets 403 whatever they send, instead of a validation
error that would confirm the resource exists.
"""

from __future__ import annotations

from django.db.models import Q
from ninja import Router
from ninja.constants import NOT_SET
from ninja.security import HttpBearer, SessionAuth

from bastion.audit.context import Actor, client_address
from bastion.crypto import api_key_auth
from bastion.crypto.models import ApiKey, Artifact, Credential
from bastion.identity.models import Invitation
from bastion.identity.sso.models import VerifiedDomain
from bastion.records.models import EmissionRecord, EnergyRecord, EvidenceFile, Supplier
from bastion.siem.models import SiemDestination
from bastion.tenancy import api_keys
from bastion.tenancy.access import NotFound, as_uuid, authorize
from bastion.tenancy.models import AuditWitness, Membership, Role

PathObject = (EmissionRecord | EnergyRecord | Supplier | EvidenceFile | Membership | Role | ApiKey | Credential
              | Artifact | VerifiedDomain | Invitation | AuditWitness | SiemDestination)

# Path parameters that name an object: resolved (and 404 when not visible) before input parsing.
PATH_OBJECTS: dict[str, type[PathObject]] = {
    "emission_id": EmissionRecord,
    "energy_id": EnergyRecord,
    "supplier_id": Supplier,
    "evidence_id": EvidenceFile,
    "membership_id": Membership,
    "role_id": Role,
    "api_key_id": ApiKey,
    "credential_id": Credential,
    "artifact_id": Artifact,
    "domain_id": VerifiedDomain,
    "invitation_id": Invitation,
    "witness_id": AuditWitness,
    "siem_destination_id": SiemDestination,
}


def _resolve_path_objects(request, kwargs) -> dict:
    found = {}
    for name, model in PATH_OBJECTS.items():
        if name not in kwargs:
            continue
        # Explicitly the organisation's, whether or not the model's manager is tenant-scoped.
        queryset = model.objects.filter(organisation_id=request.access.organisation.id)
        if request.access.project is not None and hasattr(model, "project"):
            queryset = queryset.filter(Q(project=request.access.project))  # a Q: only some of these models have it
        found[name] = queryset.filter(id=as_uuid(kwargs[name])).first()
        if found[name] is None:
            raise NotFound()
    return found


def _authorize(request, principal, permission: str) -> None:
    kwargs = request.resolver_match.kwargs
    request.access = authorize(
        principal,
        kwargs["org"],
        permission,
        workspace_id=kwargs.get("workspace_id"),
        project_id=kwargs.get("project_id"),
    )
    request.path_objects = _resolve_path_objects(request, kwargs)


class SessionWithPermission(SessionAuth):
    """Layer 1 (session, with CSRF for unsafe methods) then layers 2 and 3 for one permission."""

    def __init__(self, permission: str | None = None):
        super().__init__(csrf=True)
        self.permission = permission

    def _get_key(self, request):
        # No session cookie, no ambient credential: nothing for CSRF to protect, and the next
        # credential (an API key) gets its turn instead of a CSRF refusal.
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        if key is None:
            return None
        user = super().authenticate(request, key)
        if user is None or not user.is_active:
            return None
        if self.permission:
            _authorize(request, user, self.permission)
        return user


class ApiKeyWithPermission(HttpBearer):
    """Layer 1 by ``Authorization: Bearer bst_…``, then the same layers 2 and 3 as a session.

    No CSRF check: a key is never sent by a browser on its own (it is no ambient credential).
    """

    def __init__(self, permission: str | None = None):
        super().__init__()
        self.permission = permission

    def authenticate(self, request, token):
        principal = api_key_auth.authenticate(token)
        if principal is None:
            return None
        request.principal = principal
        request.audit_actor = Actor("api_key", principal.public_id, principal.name)
        if self.permission:
            _authorize(request, principal, self.permission)
            address = client_address(request)
            if api_key_auth.touch(principal, address) and principal.last_used_ip and principal.last_used_ip != (address or ""):
                api_keys.record_address_change(principal.organisation_id, principal.key_id, principal.last_used_ip)
        return principal


def credentials(permission: str | None = None) -> list:
    return [SessionWithPermission(permission), ApiKeyWithPermission(permission)]


class AuthorizingRouter(Router):
    def add_api_operation(self, path, methods, view_func, *, auth=NOT_SET, **kwargs):
        permission = getattr(view_func, "required_permission", None)
        if permission is not None and auth is NOT_SET:
            auth = credentials(permission)
        super().add_api_operation(path, methods, view_func, auth=auth, **kwargs)
