"""Staff access requests, the grants they become, and each organisation's approval policy.

An ``AccessRequest`` is one row from asking to review: pending → approved (a grant, open from
``starts_at`` to ``ends_at`` unless revoked) or denied or expired. Rows belong to the organisation
asked (row-level security), and are also readable in platform scope, where the staff console lists
a staff member's own requests and the break-glass requests waiting for a second staff member.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from bastion.tenancy.models import TenantModel

REASONS = [("support", "Customer-initiated support (ticket)"), ("incident", "Incident response"),
           ("legal", "Legal request")]
MODES = [("read_only", "Read-only"), ("read_write", "Read and write")]
STATES = [("pending", "Waiting for approval"), ("approved", "Approved"), ("denied", "Denied"),
          ("expired", "Expired unanswered")]
DEFAULT_MINUTES = 60
MAX_MINUTES = 8 * 60
BREAK_GLASS_MAX_MINUTES = 60


class AccessPolicy(TenantModel):
    """How many of the organisation's admins must approve a staff access request (1 or 2)."""

    approvers_required = models.PositiveSmallIntegerField(default=1, choices=[(1, "One admin"), (2, "Two admins")])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation"], name="support_access_policy_one")]


class AccessRequest(TenantModel):
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_by_label = models.CharField(max_length=254)
    reason = models.CharField(max_length=20, choices=REASONS)
    reference = models.CharField(max_length=200, blank=True, help_text="support ticket, incident or case reference")
    details = models.TextField(max_length=2000, blank=True)
    mode = models.CharField(max_length=20, choices=MODES, default="read_only")
    minutes = models.PositiveIntegerField(default=DEFAULT_MINUTES)
    workspace_ids = models.JSONField(default=list, blank=True, help_text="empty with no projects: the whole organisation")
    project_ids = models.JSONField(default=list, blank=True)
    break_glass = models.BooleanField(default=False)
    state = models.CharField(max_length=20, choices=STATES, default="pending")
    created_at = models.DateTimeField()
    answer_by = models.DateTimeField(help_text="unanswered by then, the request expires")
    approvers_required = models.PositiveSmallIntegerField(default=1)
    approvals = models.JSONField(default=list, blank=True, help_text="[{user, label, at}] of each approval")
    decided_by_label = models.CharField(max_length=254, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_label = models.CharField(max_length=254, blank=True)
    review_asked_at = models.DateTimeField(null=True, blank=True)
    org_reviewed_at = models.DateTimeField(null=True, blank=True)
    org_reviewed_by_label = models.CharField(max_length=254, blank=True)
    staff_reviewed_at = models.DateTimeField(null=True, blank=True)
    staff_reviewed_by_label = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "state", "ends_at"])]

    def __str__(self) -> str:
        return f"access request {self.id}"

    @property
    def scope_label(self) -> str:
        if not self.workspace_ids and not self.project_ids:
            return "the whole organisation"
        parts = [f"{len(self.workspace_ids)} workspace(s)"] if self.workspace_ids else []
        parts += [f"{len(self.project_ids)} project(s)"] if self.project_ids else []
        return ", ".join(parts)

    def is_open_at(self, moment) -> bool:
        return (self.state == "approved" and self.revoked_at is None and self.starts_at is not None
                and self.ends_at is not None and self.starts_at <= moment < self.ends_at)

    def has_ended_at(self, moment) -> bool:
        return self.state == "approved" and (self.revoked_at is not None
                                             or (self.ends_at is not None and self.ends_at <= moment))

    @property
    def reviewed(self) -> bool:
        return self.org_reviewed_at is not None and self.staff_reviewed_at is not None
