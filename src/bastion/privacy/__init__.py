"""Data protection: data-subject rights (export, correct, delete), organisation export and deletion
with a grace period, retention policies and legal holds. See docs/privacy.md."""
