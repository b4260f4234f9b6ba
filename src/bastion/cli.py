"""``bastion``: the command line of the platform.

``demo``, ``serve`` and ``worker`` run the platform's processes (``bastion.commands.serving``);
``migrate`` runs migrations as the owner role when ``DATABASE_ADMIN_URL`` is set; ``manage`` passes
anything else to Django's management commands. The other commands call a service and display what
it returns (``bastion.commands``).
"""

from __future__ import annotations

import argparse
import os
import sys

from bastion.commands.serving import cmd_demo, cmd_serve, cmd_worker
from bastion.commands.terminal import fail
from bastion.commands.terminal import setup as _setup

MIGRATION_LOCK = 0x6261_7374_696F_6E  # "bastion": the PostgreSQL advisory lock `bastion migrate` holds


def cmd_migrate(args) -> None:
    if os.environ.get("DATABASE_ADMIN_URL"):
        os.environ["BASTION_DB_AS_ADMIN"] = "1"  # read by settings: connect as the owner role
    _setup()
    from django.core.management import call_command
    from django.db import connection

    targets = [args.app, args.migration] if args.migration else ([args.app] if args.app else [])
    if connection.vendor == "postgresql":
        # Several servers starting at once each migrate first: one at a time (the others then find
        # nothing to do), or their grants collide ("tuple concurrently updated"). Held until exit.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    call_command("migrate", *targets, interactive=False, verbosity=0 if args.quiet else 1)


def cmd_config_check(args) -> None:
    from bastion import config as configuration

    configuration.collect_problems()  # every bad value reported below, not the first one refused
    _setup()
    from django.conf import settings

    from bastion.commands import config
    from bastion.operations import deployment_checks

    if args.certfile or args.keyfile:
        from bastion.hardening import tls as tls_settings

        try:
            tls_settings.check_files(args.certfile, args.keyfile)
        except tls_settings.TLSConfigError as exc:
            fail(f"bastion config check: {exc}")
        settings.BASTION_SERVES_TLS = True
    if args.production:
        settings.BASTION_PRODUCTION = True
    sys.exit(config.check(deployment_checks.run(), sys.stdout))


def cmd_audit_verify(args) -> None:
    _setup()
    from bastion.commands import audit

    try:
        code = audit.verify(args.org, record=not args.no_record)
    except audit.CommandError as exc:
        fail(f"bastion audit verify: {exc}")
    sys.exit(code)


def cmd_access_log_verify(args) -> None:
    _setup()
    from bastion.commands import access_log
    from bastion.commands.audit import CommandError

    try:
        code = access_log.verify(args.org, record=not args.no_record)
    except CommandError as exc:
        fail(f"bastion access-log verify: {exc}")
    sys.exit(code)


def cmd_audit_export(args) -> None:
    _setup()
    from bastion.commands import audit

    try:
        if args.output == "-":
            code = audit.export(args.org, sys.stdout)
        else:
            with open(args.output, "w", encoding="utf-8") as handle:
                code = audit.export(args.org, handle)
    except audit.CommandError as exc:
        fail(f"bastion audit export: {exc}")
    except OSError as exc:
        fail(f"bastion audit export: cannot write {args.output}: {exc.strerror}")
    sys.exit(code)


def cmd_keys_rotate(args) -> None:
    _setup()
    from bastion.commands import keys
    from bastion.commands.audit import CommandError

    try:
        if args.audit_signing:
            if args.org or args.resume:
                fail("bastion keys rotate: --audit-signing rotates the platform's key: it takes no --org or --resume")
            sys.exit(keys.rotate_audit_signing())
        run = keys.resume if args.resume else keys.rotate
        sys.exit(run(args.org, batch_size=args.batch_size))
    except CommandError as exc:
        fail(f"bastion keys rotate: {exc}")


def cmd_privacy_retention(args) -> None:
    _setup()
    from bastion.commands import privacy

    sys.exit(privacy.retention_run(dry_run=args.dry_run))
def cmd_staff_create(args) -> None:
    _setup()
    from bastion.commands import staff

    sys.exit(staff.create(args.email, args.role))


def cmd_backup(args) -> None:
    _setup()
    from bastion.commands import backups, pg_backups

    # SQLite: Bastion's own snapshots; PostgreSQL: pgBackRest (BASTION_PGBACKREST_CONFIG).
    engine = pg_backups if pg_backups.is_postgresql() else backups
    try:
        if args.backup_command == "now":
            code = engine.now()
        elif args.backup_command == "list":
            code = backups.list_()
        elif args.backup_command == "restore":
            if engine is pg_backups:
                code = pg_backups.restore(args.to, args.to_database, args.time, backup_label=args.backup)
            elif args.to_database or args.time:
                fail("bastion backup restore: --to-database and --time are for PostgreSQL (point-in-time recovery); "
                     "SQLite restores a snapshot: --to DIR [--backup ID]")
            else:
                code = backups.restore(args.to, backup_id=args.backup)
        elif args.backup_command == "setup":
            code = pg_backups.setup(args.pg_data, apply=args.apply)
        elif args.backup_command == "drill":
            code = pg_backups.drill() if engine is pg_backups else backups.drill(backup_id=args.backup)
        else:
            code = engine.verify()
    except backups.CommandError as exc:
        fail(f"bastion backup {args.backup_command}: {exc}")
    sys.exit(code)


def cmd_anonymise(args) -> None:
    _setup()
    from bastion.commands import anonymise, backups

    try:
        code = anonymise.run(args.backup, seed=args.seed)
    except backups.CommandError as exc:
        fail(f"bastion anonymise: {exc}")
    sys.exit(code)


def cmd_dr(args) -> None:
    _setup()
    from bastion.commands import dr

    try:
        code = dr.drill()
    except dr.CommandError as exc:
        fail(f"bastion dr {args.dr_command}: {exc}")
    sys.exit(code)


def cmd_trust_run(args) -> None:
    _setup()
    from bastion.commands import trust
    from bastion.trust.checks import registry

    unknown = sorted(set(args.check or []) - set(registry()))
    if unknown:
        fail(f"bastion trust run: no such check: {', '.join(unknown)} (see docs/trust.md)")
    sys.exit(trust.run(only=args.check))


def cmd_trust_note(args) -> None:
    _setup()
    from bastion.trust import notes

    try:
        notes.set_note(args.control, args.note)
    except notes.UnknownControl as exc:
        fail(f"bastion trust note: {exc}")
    print(f"note {'set' if args.note.strip() else 'removed'} on {args.control}")


def cmd_manage(args) -> None:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["bastion", *args.rest])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bastion", description="Bastion platform command line")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="start the platform with demo data on 127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--no-jobs", action="store_true", help="run no job consumer here (use `bastion worker`)")
    serve.add_argument("--certfile", metavar="FILE",
                       help="serve HTTPS only (TLS 1.2 and 1.3, Mozilla's intermediate configuration) with this "
                            "PEM certificate (and chain); needs --keyfile")
    serve.add_argument("--keyfile", metavar="FILE", help="the certificate's private key (PEM, not encrypted)")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("app", nargs="?", help="only this app (with MIGRATION: to that migration)")
    migrate.add_argument("migration", nargs="?")
    migrate.add_argument("-q", "--quiet", action="store_true")
    migrate.set_defaults(func=cmd_migrate)

    audit = sub.add_parser("audit", help="the tamper-evident audit log").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser("verify", help="re-compute every chain and checkpoint; exit 1 naming the first break")
    verify.add_argument("--org", metavar="SLUG", help="only this organisation's chain")
    verify.add_argument("--no-record", action="store_true", help="do not store the result as an event")
    verify.set_defaults(func=cmd_audit_verify, by_operator=True)
    export = audit.add_parser("export", help="write an organisation's log as JSON Lines, for bastion-verify")
    export.add_argument("--org", metavar="SLUG", required=True)
    export.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_audit_export, by_operator=True)

    access_log = sub.add_parser("access-log", help="the tamper-evident read-access log").add_subparsers(
        dest="access_log_command", required=True)
    access_verify = access_log.add_parser("verify", help="re-compute every organisation's read-access chain; exit 1 "
                                                         "naming the first broken batch")
    access_verify.add_argument("--org", metavar="SLUG", help="only this organisation's log")
    access_verify.add_argument("--no-record", action="store_true", help="do not store the result as an audit event")
    access_verify.set_defaults(func=cmd_access_log_verify, by_operator=True)

    keys = sub.add_parser("keys", help="encryption keys").add_subparsers(dest="keys_command", required=True)
    rotate = keys.add_parser("rotate", help="new KEK and data key versions, re-encrypt everything, retire the unused")
    rotate.add_argument("--org", metavar="SLUG", help="only this organisation")
    rotate.add_argument("--batch-size", type=int, default=500)
    rotate.add_argument("--resume", action="store_true", help="finish an interrupted rotation without starting another")
    rotate.add_argument("--audit-signing", action="store_true",
                        help="instead: a new Ed25519 key signs audit checkpoints (the old public key stays published)")
    rotate.set_defaults(func=cmd_keys_rotate, by_operator=True)

    configuration = sub.add_parser("config", help="the configuration").add_subparsers(dest="config_command",
                                                                                      required=True)
    config_check = configuration.add_parser(
        "check", help="every configuration problem at once, each with its fix; exit 1 when any is an error")
    config_check.add_argument("--production", action="store_true",
                              help="check as production (as BASTION_PRODUCTION=true, or `serve` on a public address)")
    config_check.add_argument("--certfile", metavar="FILE", help="as `bastion serve --certfile`: TLS is served")
    config_check.add_argument("--keyfile", metavar="FILE", help="as `bastion serve --keyfile`")
    config_check.set_defaults(func=cmd_config_check)
    privacy = sub.add_parser("privacy", help="data protection").add_subparsers(dest="privacy_command", required=True)
    retention = privacy.add_parser("retention", help="delete what is past its retention period (legal holds keep theirs)")
    retention.add_argument("--dry-run", action="store_true", help="delete nothing: report what a run would delete")
    retention.set_defaults(func=cmd_privacy_retention, by_operator=True)
    staff = sub.add_parser("staff", help="platform staff accounts").add_subparsers(dest="staff_command", required=True)
    staff_create = staff.add_parser("create", help="make EMAIL platform staff in a role (a member of no organisation)")
    staff_create.add_argument("email", metavar="EMAIL")
    staff_create.add_argument("--role", required=True, choices=["support", "security", "operator"])
    staff_create.set_defaults(func=cmd_staff_create, by_operator=True)
    backup = sub.add_parser("backup", help="backups, restores into a new place, restore drills")
    backup_sub = backup.add_subparsers(dest="backup_command", required=True)
    backup_sub.add_parser("now", help="take a backup now (SQLite: an encrypted snapshot to every repository)")
    backup_sub.add_parser("list", help="every backup: size, time, type, repository, proven by a drill")
    restore = backup_sub.add_parser("restore", help="restore into a new place (never over the live database), "
                                                    "then verify every audit chain")
    restore.add_argument("--to", metavar="DIR", help="a new, empty directory (PostgreSQL: the new cluster's)")
    restore.add_argument("--to-database", metavar="URL",
                         help="PostgreSQL: postgres://localhost:PORT/DATABASE, the new cluster's port (never the live one)")
    restore.add_argument("--time", metavar="T", help="PostgreSQL: the moment to recover to (ISO 8601)")
    restore.add_argument("--backup", metavar="ID", help="this backup instead of the newest")
    drill = backup_sub.add_parser("drill", help="restore the newest backup to a scratch place, check it, measure RTO/RPO")
    drill.add_argument("--backup", metavar="ID", help="this backup instead of the newest")
    backup_sub.add_parser("verify", help="check every backup in every repository is there and unaltered")
    setup = backup_sub.add_parser("setup", help="PostgreSQL: write pgBackRest's configuration, create the stanza, "
                                  "check WAL archiving (--apply sets it), run pgbackrest check")
    setup.add_argument("--pg-data", metavar="DIR", help="the cluster's data directory (default: asked of PostgreSQL)")
    setup.add_argument("--apply", action="store_true", help="set archive_command/archive_timeout with ALTER SYSTEM")
    for parser_ in backup_sub.choices.values():
        parser_.set_defaults(func=cmd_backup, by_operator=True, backup=None)

    anonymise = sub.add_parser("anonymise", help="an anonymised copy of a backup (fakes for personal and confidential "
                               "fields, no keys) that staging and development may restore")
    anonymise.add_argument("--backup", metavar="ID", help="the backup to copy (default: the newest)")
    anonymise.add_argument("--seed", type=int, help="seed the fakes (repeatable copies)")
    anonymise.set_defaults(func=cmd_anonymise)
    dr = sub.add_parser("dr", help="disaster recovery in the second region").add_subparsers(dest="dr_command",
                                                                                            required=True)
    dr.add_parser("drill", help="promote a copy of the DR standby, serve from it, verify the audit chains, measure "
                  "RTO and data lost").set_defaults(func=cmd_dr, by_operator=True)

    trust = sub.add_parser("trust", help="the trust page's checks").add_subparsers(dest="trust_command", required=True)
    trust_run = trust.add_parser("run", help="run every check against this deployment; exit 1 if any failed")
    trust_run.add_argument("--check", action="append", help="run only this check (repeatable)")
    trust_run.set_defaults(func=cmd_trust_run, by_operator=True)
    trust_note = trust.add_parser("note", help="set the operator's note shown next to a control on /trust ('' removes it)")
    trust_note.add_argument("control", help="the control's ref_id, e.g. BST-BCK-01")
    trust_note.add_argument("note")
    trust_note.set_defaults(func=cmd_trust_note, by_operator=True)

    worker = sub.add_parser("worker", help="run background and periodic jobs (audit verification, checkpoints)")
    worker.add_argument("--workers", type=int, default=2)
    worker.set_defaults(func=cmd_worker)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)

    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to start again as it was started
    if getattr(args, "port", 1) is not None and not 0 < getattr(args, "port", 1) < 65536:
        parser.error("--port must be between 1 and 65535")
    if not getattr(args, "by_operator", False):
        args.func(args)
        return
    # What an administrative command records (a key rotation, an export, a verification) is done by
    # the person at this terminal, not by "the system". Only for these commands: a server started
    # from here must not lend its operator to the requests it serves.
    from bastion.audit.context import acting_as

    with acting_as(operator()):
        args.func(args)


def operator():
    """The person running this command: their login name on this machine (and which machine)."""
    import getpass
    import socket

    from bastion.audit.context import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = f"uid {os.getuid()}"
    return Actor("operator", name, f"{name}@{socket.gethostname()} (bastion CLI)")


if __name__ == "__main__":
    main()
