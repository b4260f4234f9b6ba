"""The audit actions of backups, restores and drills (all on the platform's chain)."""

from bastion.audit.registry import register

BACKUP_COMPLETED = "backup.snapshot.completed"
BACKUP_FAILED = "backup.snapshot.failed"
BACKUP_EXPIRED = "backup.snapshot.expired"
RESTORE_COMPLETED = "backup.restore.completed"
DRILL_COMPLETED = "backup.drill.completed"
DRILL_FAILED = "backup.drill.failed"

register({
    BACKUP_COMPLETED: "A backup was taken, encrypted and written to its repository",
    BACKUP_FAILED: "A backup failed (repository unreachable, full or corrupt); the last good one is kept",
    BACKUP_EXPIRED: "Backups outside the retention catalogue (daily, weekly, monthly) were deleted",
    RESTORE_COMPLETED: "A backup was restored into a new place and its audit chains verified",
    DRILL_COMPLETED: "A restore drill proved a backup restorable and measured RTO and RPO",
    DRILL_FAILED: "A restore drill failed",
})
