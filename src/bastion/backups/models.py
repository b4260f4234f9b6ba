"""What Bastion knows of its backups and drills. Platform-level rows (no organisation owns a backup
of the whole database), kept in the live database; each SQLite backup also carries its manifest in
the repository, so ``bastion backup list`` and restores work from the repository alone."""

from __future__ import annotations

import uuid

from django.db import models


class Backup(models.Model):
    ENGINES = [("sqlite", "SQLite snapshot"), ("postgresql", "pgBackRest")]
    TYPES = [("snapshot", "snapshot"), ("full", "full"), ("diff", "differential"), ("incr", "incremental")]
    STATUSES = [("running", "running"), ("ok", "ok"), ("failed", "failed"), ("expired", "expired")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    engine = models.CharField(max_length=16, choices=ENGINES)
    type = models.CharField(max_length=16, choices=TYPES)
    repository = models.CharField(max_length=300, help_text="where it is: a directory, s3://…, or repo1/repo2")
    label = models.CharField(max_length=200, blank=True, help_text="the object name or pgBackRest's backup label")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    restore_point = models.DateTimeField(null=True, blank=True, help_text="the newest moment this backup restores")
    size = models.BigIntegerField(default=0, help_text="bytes stored in the repository")
    status = models.CharField(max_length=16, choices=STATUSES, default="running")
    error = models.TextField(blank=True)
    proven_by_drill = models.ForeignKey("Drill", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.engine} {self.type} backup {self.id} ({self.status})"


class Drill(models.Model):
    KINDS = [("backup", "restore of a backup"), ("dr", "promotion of a copy of the DR standby")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=KINDS, default="backup")
    backup = models.ForeignKey(Backup, null=True, blank=True, on_delete=models.SET_NULL, related_name="drills")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    target_time = models.DateTimeField(null=True, blank=True, help_text="the moment the drill asked to restore")
    restored_time = models.DateTimeField(null=True, blank=True, help_text="the newest restored transaction")
    rto_seconds = models.FloatField(null=True, blank=True, help_text="start → restored, verified and serving")
    rpo_seconds = models.FloatField(null=True, blank=True, help_text="asked-for moment − newest restored transaction")
    events_lost = models.IntegerField(null=True, blank=True, help_text="audit events beyond the restore point")
    tables_checked = models.IntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"drill {self.id} ({'ok' if self.ok else 'failed'})"
