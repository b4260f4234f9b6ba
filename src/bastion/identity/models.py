"""Users. A user is global (one identity, many organisations); what they may do lives in tenancy."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from bastion.identity.sso_models import SSOConnection, VerifiedDomain  # noqa: F401  (models of this app)


class BastionUserManager(UserManager):
    def _create_user(self, username, email, password, *, email_verified: bool = False, **extra_fields):
        """A user and their primary email address (allauth's ``EmailAddress``), verified only when the
        caller has proof of it (the demo, tests, an IdP's assertion); otherwise the first sign-in asks
        for confirmation by email."""
        from allauth.account.models import EmailAddress

        email = self.normalize_email(email).lower()
        user = super()._create_user(username or email, email, password, **extra_fields)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
        return user

    def create_user(self, email, password=None, **extra_fields):
        return self._create_user(None, email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(None, email, password, **extra_fields)


class User(AbstractUser):
    email = models.EmailField(unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = BastionUserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


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
