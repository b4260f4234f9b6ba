"""Organisation → workspace → project, memberships and roles.

An organisation is a "firm" in accounting terms and a workspace an "entity". Every row below the
organisation carries ``organisation_id`` and is confined to it by ``TenantManager`` and, on
PostgreSQL, by a row-level security policy created in the same migration as the table.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from bastion.crypto.fields import EncryptedTextField
from bastion.tenancy.context import current_organisation_id
from bastion.tenancy.permissions import BUILTIN_ROLE_NAMES, BUILTIN_ROLES

SLUG_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?"
slug_validator = RegexValidator(
    rf"^{SLUG_PATTERN}$",
    "Use 1-50 lowercase letters, digits and hyphens, not starting or ending with a hyphen.",
    code="invalid_slug",
)


_Row = TypeVar("_Row", bound=models.Model)


class TenantManager(models.Manager[_Row]):
    """Rows of the active organisation only; none at all outside a tenant context."""

    def get_queryset(self) -> models.QuerySet[_Row]:
        queryset = super().get_queryset()
        organisation_id = current_organisation_id()
        if organisation_id is None:
            return queryset.none()
        return queryset.filter(organisation_id=organisation_id)


class TenantModel(models.Model):
    """Base of every tenant-owned table. ``all_tenants`` is for platform code and migrations only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("tenancy.Organisation", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()
    all_tenants = models.Manager()

    class Meta:
        abstract = True
        base_manager_name = "all_tenants"

    def save(self, *args: Any, **kwargs: Any) -> None:
        active = current_organisation_id()
        if active is not None and self.organisation_id != active:
            raise PermissionError("refusing to write a row of another organisation than the active one")
        super().save(*args, **kwargs)


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    mfa_required = models.BooleanField(
        default=False, help_text="every member must use a second factor (owners and admins always must)")
    # Bumped in the transaction of every change to who may do what here (``tenancy.access_cache``):
    # an authorization cached at an older value is never used again.
    # db_default too: rows written by SQL alone (restores, tests, operators) start at 0 as well
    access_version = models.BigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An instance loaded before a bump must not write the old version back: only ``access_cache`` writes it.
        if not self._state.adding and not args and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name != "access_version"]
        super().save(*args, **kwargs)


class Workspace(TenantModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="workspace_name_unique")]

    def __str__(self) -> str:
        return self.name


class Project(TenantModel):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="project_name_unique")]

    def __str__(self) -> str:
        return self.name


class Role(TenantModel):
    """A custom role: a named set of permissions defined by an organisation's admins."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    permissions = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="role_name_unique")]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    """A user's role in an organisation, or in one workspace or project of it.

    A grant on the organisation applies to all its workspaces and projects; a grant on a
    workspace overrides it there, and a grant on a project overrides both for that project.
    The role is a built-in one (``builtin_role``) or a custom one (``custom_role``), never both.
    """

    BUILTIN_CHOICES = [(key, name) for key, name in BUILTIN_ROLE_NAMES.items()]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    builtin_role = models.CharField(max_length=20, choices=BUILTIN_CHOICES, blank=True)
    custom_role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(builtin_role="", custom_role__isnull=False)
                    | (~models.Q(builtin_role="") & models.Q(custom_role__isnull=True))
                ),
                name="membership_one_role",
            ),
            models.CheckConstraint(
                condition=models.Q(workspace__isnull=True) | models.Q(project__isnull=True),
                name="membership_one_scope",
            ),
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=models.Q(workspace__isnull=True, project__isnull=True),
                name="membership_org_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "workspace"], condition=models.Q(workspace__isnull=False), name="membership_ws_unique"
            ),
            models.UniqueConstraint(
                fields=["user", "project"], condition=models.Q(project__isnull=False), name="membership_proj_unique"
            ),
        ]

    @property
    def role_label(self) -> str:
        if self.custom_role_id and self.custom_role is not None:
            return self.custom_role.name
        return BUILTIN_ROLE_NAMES[self.builtin_role]

    @property
    def role_key(self) -> str:
        return f"custom:{self.custom_role_id}" if self.custom_role_id else self.builtin_role

    def permissions(self) -> frozenset[str]:
        if self.custom_role_id and self.custom_role is not None:
            return frozenset(self.custom_role.permissions)
        return BUILTIN_ROLES[self.builtin_role]

    @property
    def scope(self) -> str:
        if self.project_id:
            return "project"
        if self.workspace_id:
            return "workspace"
        return "organisation"


class AuditWitness(TenantModel):
    """Someone outside the platform who receives every new signed checkpoint of the organisation's
    audit chain: an HTTPS webhook (the body signed with an HMAC secret, shown once) or an email
    address. ``delivered_size`` is the tree size of the last checkpoint delivered; a failed delivery
    is retried with exponential backoff from ``next_attempt_at`` (see ``bastion.tenancy.witnesses``)."""

    KINDS = [("webhook", "HTTPS webhook"), ("email", "Email")]

    kind = models.CharField(max_length=10, choices=KINDS)
    url = models.URLField(max_length=500, blank=True)
    email = models.EmailField(blank=True)
    secret = EncryptedTextField(max_length=200, blank=True, default="")
    delivered_size = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.kind} witness {self.url or self.email}"
