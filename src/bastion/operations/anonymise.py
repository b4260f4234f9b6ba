"""``bastion anonymise``: a copy of a backup that staging or development may restore (seeds 002 and
004: no customer data leaves production). Run in production, where the backup's key opens it:

* every field the data inventory (each app's ``data_inventory.py``) classes as personal or
  confidential is replaced by a realistic fake (Faker), by the field's type: names, email addresses,
  companies, text, numbers, dates; encrypted columns are emptied (their keys are not carried, so no
  one could read them);
* every field classed secret (password hashes, token hashes, sealed secrets) is cleared, and the
  tables that hold keys or credentials are emptied: wrapped data keys, index and customer keys, API
  keys, the credentials vault, SCIM tokens, second factors, sessions, OAuth tokens;
* the audit log and the read-access log are left out (they record who did what), as are the object
  files (evidence, exports: encrypted under the organisations' keys);
* the copy is written to the backup repositories like any snapshot, its manifest marked
  ``anonymised`` with the SHA-256 of its database, which ``bastion backup restore`` checks
  (``bastion.backups.environments``); its key is wrapped under a KEK of its own
  (``backups.keys.ANONYMISED_KEK_OWNER``), the only key staging or development is given.
"""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from faker import Faker

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import audit_actions, environments, keys, snapshots
from bastion.backups import restore as restores
from bastion.db.platform import PLATFORM_ID
from bastion.disclosures import inventory

Progress = Callable[[str], object]

# Tables emptied: keys, credentials, sessions, factors, and the logs of who did what.
EMPTIED_PREFIXES = ("audit_", "access_log_", "crypto_")
EMPTIED_TABLES = (
    "identity_scimtoken",
    "identity_signinthrottle",
    "identity_knownclient",
    "mfa_authenticator",
    "usersessions_usersession",
    "django_session",
    "socialaccount_socialtoken",
    "account_emailconfirmation",
    "bastion_cache",
)


class AnonymiseFailed(Exception):
    """One line: no such backup, it cannot be opened, or no repository took the copy."""


@dataclass
class AnonymiseResult:
    source_backup: str
    backup_ids: list[str] = field(default_factory=list)
    fields_replaced: int = 0
    values_replaced: int = 0
    tables_emptied: list[str] = field(default_factory=list)


def _fake_text(faker: Faker, field_: models.Field, kind: str, limit: int) -> str:
    name = field_.name.lower()
    if "phone" in name:
        value = faker.phone_number()
    elif name in ("first_name", "last_name", "full_name", "display_name", "contact_name") or name.endswith("_by_name"):
        value = faker.name()
    elif "name" in name:
        value = faker.company()
    elif "address" in name:
        value = faker.address().replace("\n", ", ")
    elif kind == "URLField" or "url" in name:
        value = faker.url()
    elif field_.unique:
        value = faker.unique.slug()
    else:
        value = faker.sentence(nb_words=8) if kind == "TextField" or limit > 40 else faker.word()
    return value[:limit]


def _fake(faker: Faker, field_: models.Field, original):
    """A realistic value of the field's kind (``None`` stays ``None``)."""
    if original is None:
        return None
    kind = field_.get_internal_type()
    limit = getattr(field_, "max_length", None) or 200
    if isinstance(field_, models.EmailField) or "email" in field_.name.lower():
        return faker.unique.email()[:limit]
    makers = {
        # Faker's own generator (seeded with it): fake data, never a secret.
        "DecimalField": lambda: faker.pyfloat(min_value=0, max_value=10_000, right_digits=3),
        "FloatField": lambda: faker.pyfloat(min_value=0, max_value=10_000, right_digits=3),
        "DateField": lambda: faker.date_between("-5y", "today").isoformat(),
        "JSONField": lambda: "[]" if str(original).lstrip().startswith("[") else "{}",
        "GenericIPAddressField": faker.ipv4,
    }
    if kind in makers:
        return makers[kind]()
    if kind not in ("CharField", "TextField", "SlugField", "URLField"):
        return original  # ids, counts, flags, times: kept (classified for what they point at)
    return _fake_text(faker, field_, kind, limit)


def _cleared(field_: models.Field):
    if field_.name == "password":
        return "!" + Faker().pystr(min_chars=40, max_chars=40)  # Django's unusable-password form
    if field_.null:
        return None
    return {"JSONField": "{}", "BinaryField": b""}.get(field_.get_internal_type(), "")


def _tables(connection: sqlite3.Connection) -> set[str]:
    return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _empty_tables(connection: sqlite3.Connection, tables: set[str]) -> list[str]:
    emptied = [table for table in sorted(tables) if table.startswith(EMPTIED_PREFIXES) or table in EMPTIED_TABLES]
    for table in emptied:
        connection.execute(f'DELETE FROM "{table}"')  # noqa: S608 - names from sqlite_master
    return emptied


def _replace(connection: sqlite3.Connection, faker: Faker, table: str, field_: models.Field, data_class: str) -> int:
    """Replace one column's values: fakes for personal and confidential, cleared for secret or encrypted."""
    encrypted = "Encrypted" in type(field_).__name__
    if data_class == "secret" or encrypted:
        value = "" if encrypted and not field_.null else _cleared(field_)
        return connection.execute(f'UPDATE "{table}" SET "{field_.column}" = ?', [value]).rowcount  # noqa: S608
    rows = connection.execute(f'SELECT rowid, "{field_.column}" FROM "{table}"').fetchall()  # noqa: S608
    connection.executemany(
        f'UPDATE "{table}" SET "{field_.column}" = ? WHERE rowid = ?',  # noqa: S608
        [(_fake(faker, field_, value), rowid) for rowid, value in rows],
    )
    return len(rows)


def scrub(database: Path, *, seed: int | None = None) -> AnonymiseResult:
    """Anonymise the SQLite database file ``database`` in place."""
    faker = Faker()
    if seed is not None:
        Faker.seed(seed)
    result = AnonymiseResult(source_backup="")
    classes = {(row.table, row.field): row.data_class for row in inventory.fields()}
    with contextlib.closing(sqlite3.connect(database)) as connection:
        # One self-contained file (no -wal beside it to be left out of the archive).
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("PRAGMA foreign_keys = OFF")
        # The append-only triggers (audit log) are lifted on this scratch copy and put back as they were.
        triggers = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        tables = _tables(connection)
        result.tables_emptied = _empty_tables(connection, tables)
        for model in inventory.bastion_models():
            table = model._meta.db_table
            if table not in tables or table in result.tables_emptied:
                continue
            for field_ in model._meta.concrete_fields:
                data_class = classes.get((table, field_.name))
                if data_class in ("personal", "confidential", "secret"):
                    result.values_replaced += _replace(connection, faker, table, field_, data_class)
                    result.fields_replaced += 1
        if "account_emailaddress" in tables:  # allauth's copy of each address follows the faked user
            connection.execute(
                "UPDATE account_emailaddress SET email = (SELECT email FROM identity_user "
                "WHERE identity_user.id = account_emailaddress.user_id)"
            )
        for _, sql in triggers:
            connection.execute(sql)
        connection.commit()
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("VACUUM")  # the replaced values' old pages are not left in the file
    return result


def anonymise(
    backup_id: str | None = None, *, progress: Progress | None = None, seed: int | None = None
) -> AnonymiseResult:
    """An anonymised copy of ``backup_id`` (default: the newest backup), stored in every repository."""
    progress = progress or (lambda message: None)
    with tempfile.TemporaryDirectory(prefix="bastion-anonymise-") as work:
        workdir = Path(work)
        try:
            _, manifest = restores.unpack(backup_id, workdir / "copy", progress)
        except (restores.RestoreRefused, restores.RestoreFailed) as exc:
            raise AnonymiseFailed(str(exc)) from exc
        database = workdir / "copy" / snapshots.DATABASE_MEMBER
        result = scrub(database, seed=seed)
        result.source_backup = manifest["id"]
        progress(
            f"{result.values_replaced} value(s) in {result.fields_replaced} field(s) replaced, "
            f"{len(result.tables_emptied)} table(s) emptied"
        )
        archive = workdir / "anonymised.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(database, arcname=snapshots.DATABASE_MEMBER)
        details = {
            "row_counts": snapshots.row_counts(database),
            "chain_heads": {},
            "objects_included": False,
            "environment": environments.source_of(manifest),
            "anonymised": {
                "source_backup": manifest["id"],
                "at": timezone.now().isoformat(),
                "by_environment": settings.BASTION_ENVIRONMENT,
                "database_sha256": environments.database_sha256(database),
                "fields_replaced": result.fields_replaced,
            },
        }
        moment = datetime.datetime.fromisoformat(manifest["restore_point"])
        stored = snapshots.store(archive, moment, details, kek_owner=keys.ANONYMISED_KEK_OWNER, progress=progress)
    result.backup_ids = [copy.backup_id for copy in stored.copies if copy.ok and copy.backup_id]
    with transaction.atomic():
        enter_chain(PLATFORM_ID)
        audit_chain.record(
            audit_actions.ANONYMISED,
            resource_type="backup",
            resource_id=result.source_backup,
            changes={
                "copies": result.backup_ids,
                "fields_replaced": result.fields_replaced,
                "values_replaced": result.values_replaced,
                "tables_emptied": len(result.tables_emptied),
            },
        )
    if not stored.ok:
        raise AnonymiseFailed("; ".join(copy.error for copy in stored.copies if copy.error) or "no backup repository")
    return result
