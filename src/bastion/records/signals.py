"""Evidence bytes leave object storage when their row does, however the row was deleted
(directly, or by cascade from its record, project, workspace or organisation), and only once
the deleting transaction has committed."""

from __future__ import annotations

from django.core.files.storage import storages
from django.db import transaction


def delete_stored_file(sender, instance, **kwargs) -> None:
    key = instance.storage_key
    transaction.on_commit(lambda: storages["default"].delete(key))
