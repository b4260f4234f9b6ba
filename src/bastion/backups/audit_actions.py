"""The audit actions of backups, restores and drills (all on the platform's chain)."""

from bastion.audit.registry import action

BACKUP_COMPLETED = action("backup.snapshot.completed", "A backup was taken, encrypted and written to its repository")
BACKUP_FAILED = action("backup.snapshot.failed",
                       "A backup failed (repository unreachable, full or corrupt); the last good one is kept")
BACKUP_EXPIRED = action("backup.snapshot.expired",
                        "Backups outside the retention catalogue (daily, weekly, monthly) were deleted")
RESTORE_COMPLETED = action("backup.restore.completed",
                           "A backup was restored into a new place and its audit chains verified")
DRILL_COMPLETED = action("backup.drill.completed", "A restore drill proved a backup restorable and measured RTO and RPO")
DRILL_FAILED = action("backup.drill.failed", "A restore drill failed")
RESTORE_REFUSED = action("backup.restore.refused",
                         "A restore of production data into another environment was refused: not an anonymised copy")
ANONYMISED = action("backup.anonymised",
                    "An anonymised copy of a backup was made (personal and confidential fields faked, no keys)")
DR_DRILL_COMPLETED = action("backup.dr_drill.completed",
                            "A DR drill promoted a copy of the standby, served from it and measured RTO and data lost")
DR_DRILL_FAILED = action("backup.dr_drill.failed", "A DR drill failed (copy, promotion, serving, audit chains or RPO target)")
