"""The key store: per-organisation data keys and blind-index keys, stored only wrapped by a KMS
key-encryption key. Apart from ``models.py`` (whose encrypted fields need the keys, through
``envelope`` and ``keyring``), so that the key store imports nothing that encrypts."""

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


class IndexKey(models.Model):
    """An organisation's blind-index key (HMAC-SHA-256), stored only wrapped by its KEK.

    One per organisation and not versioned: a new index key would mean recomputing every index
    at once. It is re-wrapped when the KEK rotates and deleted (shredded) with the organisation.
    """

    organisation_id = models.UUIDField(primary_key=True)
    provider = models.CharField(max_length=20)
    kek_id = models.CharField(max_length=200)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"blind-index key of {self.organisation_id} (KEK {self.provider}:{self.kek_id})"


class CustomerKey(models.Model):
    """An organisation's own key (BYOK): a KMS key in the customer's AWS account, reached through a
    role there that Bastion may assume with this organisation's external id. While ``key_arn`` is
    set, the organisation's data keys and blind-index key are wrapped under it, so disabling or
    deleting it makes the organisation's data unreadable (within the data-key cache's lifetime)."""

    organisation_id = models.UUIDField(primary_key=True)
    external_id = models.CharField(max_length=64)
    key_arn = models.CharField(max_length=200, blank=True)
    role_arn = models.CharField(max_length=200, blank=True)
    configured_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"customer key of {self.organisation_id}: {self.key_arn or '(not configured)'}"
