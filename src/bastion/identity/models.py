"""Users. A user is global (one identity, many organisations); what they may do lives in tenancy."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from bastion.identity.sso.models import SSOConnection, VerifiedDomain  # noqa: F401  (models of this app)


class BastionUserManager(UserManager["User"]):
    def _create_user(self, username: str | None, email: str, password: str | None, *, email_verified: bool = False,
                     **extra_fields: Any) -> User:
        """A user and their primary email address (allauth's ``EmailAddress``), verified only when the
        caller has proof of it (the demo, tests, an IdP's assertion); otherwise the first sign-in asks
        for confirmation by email."""
        from allauth.account.models import EmailAddress

        email = self.normalize_email(email).lower()
        # django-stubs do not declare UserManager._create_user, which Django 5.2 has.
        user: User = super()._create_user(  # type: ignore[misc]
            username or email, email, password, **extra_fields)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
        return user

    # The email is the username (USERNAME_FIELD), so these take no username, unlike UserManager's.
    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> User:  # type: ignore[override]
        return self._create_user(None, email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None,  # type: ignore[override]
                         **extra_fields: Any) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(None, email, password, **extra_fields)


# Platform staff: a kind of account of its own, member of no organisation, that sees an
# organisation's data only under a grant the organisation approved (``bastion.support_access``).
# Each role holds only what it needs: support asks for access and handles requests that arrive by
# email; security approves break-glass access, reviews grants and receives the platform's alerts;
# operator writes the status page and founds organisations when self-service is off.
STAFF_ROLES = {
    "support": "Support",
    "security": "Security",
    "operator": "Operator",
}
# Roles that must sign in with a security key or passkey (phishing-resistant), not an authenticator app.
STAFF_ROLES_NEEDING_SECURITY_KEY = frozenset({"security", "operator"})


class User(AbstractUser):
    email = models.EmailField(unique=True)
    # Empty for everyone but platform staff (see STAFF_ROLES). Django's own ``is_staff`` is not used.
    staff_role = models.CharField(max_length=20, blank=True, default="", choices=list(STAFF_ROLES.items()))
    # Bumped (in the same transaction) whenever what this user may do changes: a membership, a
    # role's permissions, an organisation's MFA policy, a second factor. What a session caches
    # about the user's access is keyed by it, so it is recomputed on the next request.
    access_version = models.PositiveIntegerField(default=0)
    # Who disabled the account: "scim:<organisation id>" when an organisation's provider did (only
    # that provider may enable it again); empty when the platform's operator did, or it is enabled.
    disabled_by = models.CharField(max_length=60, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[BastionUserManager] = BastionUserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_platform_staff(self) -> bool:
        return bool(self.staff_role)


class SignInThrottle(models.Model):
    """Failed password sign-ins counted per account and per client address, in the database so that
    every app server sees the same counts. ``key`` is ``account:<sha256 of the email>`` or
    ``ip:<address>``; emails are hashed so this table lists no one."""

    key = models.CharField(max_length=100, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    lockouts = models.PositiveIntegerField(default=0, help_text="locks so far: each lasts twice the one before")

    def __str__(self) -> str:
        return self.key


class KnownClient(models.Model):
    """A network and a browser a user has signed in from, so that a sign-in from a new network on
    a new device can be told to them. The network is the /24 (IPv4) or /48 (IPv6) around the
    address; the browser is a SHA-256 of its user agent (this table holds no user agent in clear)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    network = models.CharField(max_length=64)
    user_agent_sha256 = models.CharField(max_length=64)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "network", "user_agent_sha256"],
                                               name="identity_knownclient_unique")]


# SCIM 2.0 provisioning (identity/scim/). These rows belong to one organisation each: tenant tables,
# confined by row-level security like every other.
from bastion.tenancy.models import TenantModel  # noqa: E402


class ScimToken(TenantModel):
    """An organisation's SCIM bearer token, made like an API key: shown once, stored as a keyed hash.
    At most one is live; it dies with the member who made it (``created_by``, empty when made by an
    operator at the command line)."""

    public_id = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["organisation"], condition=models.Q(revoked_at__isnull=True),
                                               name="identity_scimtoken_one_live")]

    def __str__(self) -> str:
        return f"SCIM token bst_{self.public_id}_…"


class ScimIdentity(TenantModel):
    """A user as one organisation's identity provider knows them: the SCIM ``id`` (this row's id,
    stable per organisation), what the provider last sent, and whether it wants them active.

    The provider's values are kept here, per organisation, because the account itself is shared
    by every organisation the user belongs to: they are copied onto the account only when this
    organisation's provider created it and the user belongs to no other organisation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    user_name = models.CharField(max_length=254)
    external_id = models.CharField(max_length=255, blank=True)
    given_name = models.CharField(max_length=150, blank=True)
    family_name = models.CharField(max_length=150, blank=True)
    emails = models.JSONField(default=list, blank=True)
    active = models.BooleanField(null=True, default=True, help_text="as the provider set it; empty when it removed it")
    manages_account = models.BooleanField(default=False, help_text="this organisation's provider created the account")
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="identity_scimidentity_user"),
            models.UniqueConstraint(fields=["organisation", "user_name"], name="identity_scimidentity_user_name"),
        ]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(TenantModel):
    """A group pushed by an organisation's identity provider; its members are users of that organisation."""

    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True)
    members: models.ManyToManyField[User, ScimGroupMember] = models.ManyToManyField(
        User, through="ScimGroupMember", related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "display_name"],
                                               name="identity_scimgroup_display_name")]

    def __str__(self) -> str:
        return self.display_name


class ScimGroupMember(TenantModel):
    group = models.ForeignKey(ScimGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="identity_scimgroupmember_unique")]


class Invitation(TenantModel):
    """An offer of a role in an organisation, sent to an email address: nobody becomes a member
    until the owner of that address, signed in with it verified, accepts (``identity/invitations.py``).

    The link's token is an API-key token (``bastion.crypto.api_keys``) stored as a keyed hash; the
    row is found before any tenant is known only while the transaction names its ``public_id``.
    ``invited_by`` is empty for an invitation the platform made from a grant of an account nobody
    had signed in to, when its owner claimed it."""

    email = models.EmailField()
    role = models.CharField(max_length=64, help_text="a built-in role or custom:<uuid>, as add-member takes it")
    workspace = models.ForeignKey("tenancy.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("tenancy.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of {self.email}"

    @property
    def scope(self) -> str:
        return "project" if self.project_id else "workspace" if self.workspace_id else "organisation"

