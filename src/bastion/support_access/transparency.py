"""Access transparency: every request a staff member makes under a grant — each page, record or
file viewed, each change — is appended to the organisation's own audit chain with the grant and its
reason, one event per request (the path names the record or file; the method says whether it was a
change). The organisation's admins read these events as a feed (console, API, daily email digest)."""

from __future__ import annotations

from bastion.audit import chain as audit
from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.support_access.audit_actions import GRANT_USED
from bastion.support_access.grants import grant_requests
from bastion.tenancy import context


class GrantUseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        used = grant_requests(getattr(request, "access", None))
        if used:
            record_use(request, response, used)
        return response


def record_use(request, response, used) -> None:
    organisation_id = used[0].organisation_id
    with context.tenant_context(organisation_id):
        for grant in used:
            audit.record(GRANT_USED, organisation_id=organisation_id, resource_type="accessrequest",
                         resource_id=grant.id, changes={
                             "grant": str(grant.id), "reason": grant.reason, "reference": grant.reference,
                             "mode": grant.mode, "break_glass": grant.break_glass, "method": request.method,
                             "path": request.path, "query": request.META.get("QUERY_STRING", "")[:500],
                             "status": response.status_code,
                         })


def feed(organisation_id, *, grant_id=None, since=None, limit: int = 500) -> list[personal.Shown]:
    """The organisation's grant-use events, newest first (read in its tenant context), as people read
    them: the staff member's pseudonym resolved (``audit.personal``)."""
    events = AuditEvent.objects.filter(chain_id=organisation_id, action=GRANT_USED).order_by("-seq")
    if grant_id is not None:
        events = events.filter(resource_id=str(grant_id))
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    return personal.shown(list(events[:limit]))
