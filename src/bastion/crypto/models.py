"""Per-organisation data keys, stored only wrapped by a KMS key-encryption key."""

from __future__ import annotations

import uuid

from django.db import models


class DataKey(models.Model):
    id = models.BigAutoField(primary_key=True)
    organisation_id = models.UUIDField()
    version = models.PositiveIntegerField()
    provider = models.CharField(max_length=20)
    kek_id = models.CharField(max_length=200)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation_id", "version"]
        constraints = [models.UniqueConstraint(fields=["organisation_id", "version"], name="crypto_datakey_version")]

    def __str__(self) -> str:
        return f"data key v{self.version} of {self.organisation_id} (KEK {self.provider}:{self.kek_id})"


class ApiKey(models.Model):
    """An organisation's API credential. The secret is never stored, only its keyed hash."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation_id = models.UUIDField()
    public_id = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    created_by_id = models.BigIntegerField(null=True)
    created_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.CharField(max_length=45, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (bst_{self.public_id}_…)"

    @property
    def preview(self) -> str:
        return f"bst_{self.public_id}_…"
