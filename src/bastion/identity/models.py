"""Users. A user is global (one identity, many organisations); what they may do lives in tenancy."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class BastionUserManager(UserManager):
    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email).lower()
        return super()._create_user(username or email, email, password, **extra_fields)

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
