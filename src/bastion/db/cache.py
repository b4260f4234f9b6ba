"""The database cache, minus early eviction.

The shared cache remembers what may be used only once (used TOTP codes, accepted SAML assertion
ids) until it expires. Django's database cache, once past ``MAX_ENTRIES``, deletes the expired
entries and then a third of the live ones: anyone able to make the cache hold many entries (rate
limit counters from many addresses) could push those memories out and replay a code or an
assertion. This one deletes only expired entries.
"""

from __future__ import annotations

import datetime

from django.core.cache.backends.db import DatabaseCache
from django.db import connections
from django.db.backends.utils import CursorWrapper


class NoEvictionDatabaseCache(DatabaseCache):
    def _cull(self, db: str, cursor: CursorWrapper, now: datetime.datetime, num: int) -> None:
        ops = connections[db].ops
        # django-stubs omit DatabaseCache._table, which Django's own _cull reads.
        table, expires = ops.quote_name(self._table), ops.quote_name("expires")  # type: ignore[attr-defined]
        cursor.execute(f"DELETE FROM {table} WHERE {expires} < %s", [ops.adapt_datetimefield_value(now)])
