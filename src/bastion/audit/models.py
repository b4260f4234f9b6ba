"""Audit events in per-organisation hash chains, their signed checkpoints and verification results.

Events, checkpoints and verification results are append-only (triggers on both backends, and
on PostgreSQL no UPDATE/DELETE privilege for the app role). ``ChainHead`` is the one mutable
row per chain: the lock that serialises appends, and the running Merkle frontier.
"""

from __future__ import annotations

from django.db import models

from bastion.audit.format import GENESIS_HASH


class AuditEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    chain_id = models.UUIDField()
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    actor_type = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=100, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    ip = models.CharField(max_length=45, null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    action = models.CharField(max_length=100)
    resource_type = models.CharField(max_length=50, blank=True)
    resource_id = models.CharField(max_length=100, blank=True)
    changes = models.JSONField(default=dict)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Version 2 (bastion.audit.format): NULL for the events written in version 1. In version 2 the
    # actor's id is a pseudonym for a person, actor_label, ip and user_agent stay empty, and
    # ``personal`` holds the digests of the details kept in ``PersonalDetails``.
    format = models.CharField(max_length=32, null=True, blank=True)
    personal = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["chain_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain_id", "seq"], name="audit_event_chain_seq")]
        indexes = [
            models.Index(fields=["chain_id", "occurred_at"]),
            models.Index(fields=["chain_id", "action"]),
        ]

    def __str__(self) -> str:
        return f"{self.chain_id}#{self.seq} {self.action}"


class ChainHead(models.Model):
    chain_id = models.UUIDField(primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH.hex())
    prev_hash = models.CharField(max_length=64, default=GENESIS_HASH.hex())  # the hash before the last append
    # The Merkle frontier of the first ``Frontier.size`` events (as of the last checkpoint, or later):
    # appends leave it alone; signing a checkpoint folds in the hashes of the events since.
    frontier = models.JSONField(default=list)
    checkpointed_size = models.PositiveBigIntegerField(default=0)
    anchored_size = models.PositiveBigIntegerField(default=0)  # checkpoints up to here are in the anchor store
    updated_at = models.DateTimeField(auto_now=True)


class Checkpoint(models.Model):
    """A signed Merkle tree head (RFC 9162 style) over the first ``tree_size`` events of a chain."""

    id = models.BigAutoField(primary_key=True)
    chain_id = models.UUIDField()
    tree_size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)
    time = models.CharField(max_length=32)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=100)

    class Meta:
        ordering = ["chain_id", "tree_size"]
        constraints = [models.UniqueConstraint(fields=["chain_id", "tree_size"], name="audit_checkpoint_size")]


class VerificationResult(models.Model):
    """The outcome of verifying one chain in one run (``bastion audit verify`` or the daily job)."""

    id = models.BigAutoField(primary_key=True)
    run_id = models.UUIDField()
    chain_id = models.UUIDField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    events = models.PositiveBigIntegerField()
    checkpoints = models.PositiveIntegerField()
    first_bad_seq = models.PositiveBigIntegerField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-finished_at"]
        indexes = [models.Index(fields=["chain_id", "finished_at"])]


class Pseudonym(models.Model):
    """Who a pseudonym of one chain stands for: a user (``user_id``) or an address tried by nobody
    known (``address_sha256``, a failed sign-in). Random, never derived from the person; mutable and
    deleted when the person is erased, after which their events name nobody."""

    id = models.BigAutoField(primary_key=True)
    chain_id = models.UUIDField()
    pseudonym = models.CharField(max_length=40, unique=True)
    user_id = models.BigIntegerField(null=True, blank=True)  # no foreign key: audit sits below identity
    address_sha256 = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain_id", "user_id"], name="audit_pseudonym_user"),
            models.UniqueConstraint(fields=["chain_id", "address_sha256"], name="audit_pseudonym_address"),
        ]
        indexes = [models.Index(fields=["user_id"], name="audit_pseud_user_id_idx"),
                   models.Index(fields=["address_sha256"], name="audit_pseud_address_idx")]


class PersonalDetails(models.Model):
    """The personal details one event holds about one person (email, name, IP, user agent, …),
    outside the hash chain: the event carries only ``personal_digest(salt, details)``. Erasure deletes
    the row; pruning deletes it with its event. ``pseudonym`` is "" for details of no person (the IP
    an API key was used from)."""

    id = models.BigAutoField(primary_key=True)
    chain_id = models.UUIDField()
    seq = models.PositiveBigIntegerField()
    pseudonym = models.CharField(max_length=40, blank=True)
    details = models.JSONField(default=dict)
    salt = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain_id", "seq", "pseudonym"], name="audit_personal_event")]
        indexes = [models.Index(fields=["pseudonym"], name="audit_perso_pseudon_idx")]


class PrunedPrefix(models.Model):
    """Events 1..``tree_size`` of a chain were pruned at the end of their retention, at the boundary of
    the signed checkpoint of that size (``bastion.audit.pruning``). Verification, in the database and
    offline, starts from here: ``frontier`` (the Merkle frontier of those events, which must hash to
    the checkpoint's signed root) and ``head_hash`` (the entry hash of event ``tree_size``, which
    the next event links to). Append-only."""

    id = models.BigAutoField(primary_key=True)
    chain_id = models.UUIDField()
    tree_size = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    frontier = models.JSONField(default=list)
    pruned_at = models.DateTimeField()
    cutoff = models.DateTimeField()  # every pruned event is older than this (the retention period's start)

    class Meta:
        ordering = ["chain_id", "tree_size"]
        constraints = [models.UniqueConstraint(fields=["chain_id", "tree_size"], name="audit_pruned_size")]
