"""Per-organisation data keys, stored only wrapped by a KMS key-encryption key."""

from __future__ import annotations

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
