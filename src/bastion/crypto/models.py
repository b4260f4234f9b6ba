"""crypto's tables: the key store (``key_models``) and the records that hold secrets (API keys,
credentials, encrypted artifacts)."""

from __future__ import annotations

import uuid

from django.db import models

from bastion.crypto.fields import EncryptedTextField
from bastion.crypto.key_models import CustomerKey, DataKey, IndexKey

__all__ = ["ApiKey", "Artifact", "Credential", "CustomerKey", "DataKey", "IndexKey"]


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


class Credential(models.Model):
    """A credential for a third-party system (OAuth tokens of a connected account, an API key),
    held for the organisation in the credentials vault: encrypted under its data key, bound to
    this row, and after it is stored never shown again except as a short preview."""

    KINDS = [("oauth", "OAuth access and refresh tokens"), ("api_key", "API key"), ("password", "Password")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation_id = models.UUIDField()
    name = models.CharField(max_length=100)
    service = models.CharField(max_length=50, help_text="the third-party system, e.g. github")
    kind = models.CharField(max_length=10, choices=KINDS)
    secret = EncryptedTextField(max_length=16384)
    refresh_token = EncryptedTextField(max_length=16384, null=True, blank=True)
    preview = models.CharField(max_length=8, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="when the secret itself expires, if known")
    version = models.PositiveIntegerField(default=1)
    created_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation_id", "name"], name="crypto_credential_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.service}, {self.preview or '…'})"


class Artifact(models.Model):
    """A file in object storage (evidence, an export, a temporary file), encrypted before upload
    with its own key; that key is stored here sealed under the organisation's data key, so key
    rotation re-seals it and shredding the organisation makes the file unreadable everywhere."""

    # Each kind of export its own purpose: a download route hands out only its own kind, so the right to
    # download the audit log never opens an organisation's full export (or the other way round).
    PURPOSES = [("evidence", "Evidence file"), ("export", "Export"), ("audit_export", "Audit log export"),
                ("organisation_export", "Organisation export"), ("temporary", "Temporary file")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation_id = models.UUIDField()
    purpose = models.CharField(max_length=20, choices=PURPOSES)
    storage_key = models.CharField(max_length=500, unique=True)
    file_key = EncryptedTextField(max_length=64)
    size = models.PositiveBigIntegerField(help_text="bytes of plaintext")
    sha256 = models.CharField(max_length=64, help_text="of the plaintext")
    ephemeral = models.BooleanField(default=False, help_text="deleted after use, or at expires_at at the latest")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.purpose} artifact {self.id}"
