"""What the hardening controls keep: reports of Content-Security-Policy violations."""

from __future__ import annotations

from django.db import models


class CspViolation(models.Model):
    """A browser's report that a page broke the Content-Security-Policy (a bug of ours, an
    injection attempt, or a browser extension). Platform-level: reports are anonymous."""

    received_at = models.DateTimeField(auto_now_add=True)
    document_uri = models.CharField(max_length=500, blank=True)
    violated_directive = models.CharField(max_length=200, blank=True)
    blocked_uri = models.CharField(max_length=500, blank=True)
    source_file = models.CharField(max_length=500, blank=True)
    line_number = models.PositiveIntegerField(null=True, blank=True)
    sample = models.CharField(max_length=200, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.violated_directive} on {self.document_uri}"


class RateCounter(models.Model):
    """One rate limit's count for one key in one fixed window (the window's end is in the key).
    Written only by ``counters``, one ``INSERT … ON CONFLICT DO UPDATE`` per hit. On PostgreSQL the
    table is UNLOGGED: a count is worth no WAL flush (after a crash the windows simply start again),
    so a hit never waits for the disk."""

    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires = models.DateTimeField(db_index=True)
