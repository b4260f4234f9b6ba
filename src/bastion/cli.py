"""``bastion``: the command line of the platform.

``demo`` and ``serve`` run the web server; ``migrate`` runs migrations as the owner role when
``DATABASE_ADMIN_URL`` is set; ``manage`` passes anything else to Django's management commands.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bastion.settings")
    from bastion.config import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        sys.exit(f"bastion: configuration error: {exc}")


def _migrate_before_serving() -> None:
    if os.environ.get("DATABASE_URL") and os.environ.get("DATABASE_ADMIN_URL"):
        # Migrations run as the owner role, in a process of their own: the server keeps the app role.
        result = subprocess.run([sys.executable, "-m", "bastion.cli", "migrate", "--quiet"])
        if result.returncode:
            sys.exit(result.returncode)
        return
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _serve(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from bastion.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")
            self.cfg.set("forwarded_allow_ips", "127.0.0.1")

        def load(self):
            return application

    Server().run()


def cmd_migrate(args) -> None:
    if os.environ.get("DATABASE_ADMIN_URL"):
        os.environ["BASTION_DB_AS_ADMIN"] = "1"  # read by settings: connect as the owner role
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0 if args.quiet else 1)


def cmd_demo(args) -> None:
    _migrate_before_serving()
    _setup()
    from bastion import demo

    password, generated = demo.demo_password()
    if not demo.has_data():
        print("Creating demo data …", flush=True)
        demo.create(password)
    elif not generated:
        demo.set_passwords(password)
    else:
        password = "(as printed when the demo data was first created)"
    url = f"http://127.0.0.1:{args.port}/"
    print(f"\nBastion demo: {url}\n")
    print("Sign in as any of these (password below):")
    for slug in demo.ORGANISATIONS:
        print("  " + "  ".join(f"{role}@{slug}.example" for role in demo.ROLES))
    print(f"Password: {password}\n", flush=True)
    _serve("127.0.0.1", args.port, workers=1)


def cmd_serve(args) -> None:
    _migrate_before_serving()
    _setup()
    _serve(args.host, args.port, workers=args.workers)


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
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("-q", "--quiet", action="store_true")
    migrate.set_defaults(func=cmd_migrate)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)

    args = parser.parse_args(argv)
    if getattr(args, "port", 1) is not None and not 0 < getattr(args, "port", 1) < 65536:
        parser.error("--port must be between 1 and 65535")
    args.func(args)


if __name__ == "__main__":
    main()
