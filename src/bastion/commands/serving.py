"""The platform's processes: ``bastion demo`` and ``bastion serve`` (gunicorn, with an embedded job
consumer unless ``--no-jobs``) and ``bastion worker`` (the Huey consumer). Each migrates (as the owner
role when ``DATABASE_ADMIN_URL`` is set) and replays the erasure ledger before it serves."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

from bastion.commands.terminal import fail, setup


def _observed(*, log_format: str, wipe_metrics: bool) -> None:
    """Before anything imports prometheus_client: every process of this server writes its metrics to
    one directory (emptied when the server starts); logs default to ``log_format``."""
    from bastion.config import data_dir
    from bastion.operations import multiprocess

    os.environ.setdefault("BASTION_LOG_FORMAT", log_format)
    multiprocess.prepare(data_dir() / "metrics", wipe=wipe_metrics)


def _migrate_before_serving() -> None:
    if os.environ.get("DATABASE_URL") and os.environ.get("DATABASE_ADMIN_URL"):
        # Migrations run as the owner role, in a process of their own: the server keeps the app role.
        env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        result = subprocess.run([sys.executable, "-m", "bastion.cli", "migrate", "--quiet"], env=env)
        if result.returncode:
            sys.exit(result.returncode)
        return
    setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _replay_erasures_before_serving(command: str) -> None:
    """A database restored by hand (pgBackRest, a copied file) must not serve people erased since its
    backup: the erasure ledger's entries it lacks are carried out first, or the start is refused."""
    setup()
    from bastion.privacy import ledger

    result = ledger.replay()
    for name in result.replayed:
        print(f"{command}: erasure ledger: replayed {name}", file=sys.stderr, flush=True)
    if not result.ok:
        fail(f"{command}: refusing to start: erasure ledger: {result.summary()}")


def _die_with_parent() -> None:
    """In the child: on Linux, be sent SIGTERM when the server process ends, however it ends."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


EMBEDDED_WORKER = "_BASTION_EMBEDDED_WORKER"


def _start_job_worker() -> subprocess.Popen:
    """The embedded job consumer: periodic audit checkpoints and the daily verification."""
    env = {**os.environ, EMBEDDED_WORKER: "1"}  # shares the server's metrics directory: must not empty it
    worker = subprocess.Popen([sys.executable, "-m", "bastion.cli", "worker", "--workers", "1"],
                              preexec_fn=_die_with_parent, env=env)
    atexit.register(worker.terminate)
    return worker


def _serve(host: str, port: int, workers: int, *, with_jobs: bool = True,
           tls: tuple[str, str] | None = None) -> None:
    """gunicorn (gthread workers); with ``tls`` (certificate, key) HTTPS only, as bastion.hardening.tls says."""
    from django.conf import settings
    from gunicorn.app.base import BaseApplication

    from bastion.hardening import proxies
    from bastion.operations import multiprocess
    from bastion.operations.metrics_view import SERVED_CERTIFICATE
    from bastion.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", None)  # each request is logged once, by bastion.operations.middleware
            self.cfg.set("child_exit", multiprocess.child_exit)
            self.cfg.set("logconfig_dict", settings.LOGGING)  # gunicorn's own lines in the same format
            # Forwarded headers: bastion.hardening.proxies decides; gunicorn believes no more than it.
            self.cfg.set("forwarded_allow_ips", proxies.gunicorn_forwarded_allow_ips(settings.BASTION_TRUSTED_PROXIES))
            self.cfg.set("secure_scheme_headers", {"X-FORWARDED-PROTO": "https"})
            if tls:
                from bastion.hardening import tls as tls_settings

                self.cfg.set("certfile", tls[0])
                self.cfg.set("keyfile", tls[1])
                self.cfg.set("ssl_context", tls_settings.gunicorn_ssl_context)
                os.environ[SERVED_CERTIFICATE] = tls[0]  # its expiry is a metric

        def load(self):
            return application

    if with_jobs:
        if not tls:  # the status probes of the embedded worker request this server itself
            local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else (f"[{host}]" if ":" in host else host)
            os.environ.setdefault("BASTION_STATUS_PROBE_URL", f"http://{local}:{port}")
        _start_job_worker()
    Server().run()


def cmd_demo(args) -> None:
    # The demo listens on localhost only, over plain HTTP: WebAuthn (security keys, passkeys) is
    # allowed there, as browsers allow it on http://localhost. Production serves HTTPS.
    os.environ.setdefault("BASTION_WEBAUTHN_ALLOW_INSECURE_ORIGIN", "true")
    os.environ.setdefault("BASTION_ENVIRONMENT", "development")  # shown as a banner; not production data
    _observed(log_format="console", wipe_metrics=True)
    _migrate_before_serving()
    _replay_erasures_before_serving("bastion demo")
    from bastion import demo

    password, generated = demo.demo_password()
    if not demo.has_data():
        print("Creating demo data …", flush=True)
        demo.create(password)
    elif not generated:
        demo.set_passwords(password)
    else:
        password = "(as printed when the demo data was first created)"
    url = f"http://localhost:{args.port}/"
    print(f"\nBastion demo: {url}\n")
    print("Sign in as any of these (password below):")
    for slug in demo.ORGANISATIONS:
        print("  " + "  ".join(f"{role}@{slug}.example" for role in demo.ROLES))
    print(f"Password: {password}")
    print("Owners and admins set up a second factor (authenticator app or security key) at first sign-in.\n",
          flush=True)
    _serve("127.0.0.1", args.port, workers=1)


LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def cmd_serve(args) -> None:
    tls = None
    if args.certfile or args.keyfile:
        from bastion.config import data_dir
        from bastion.hardening import tls as tls_settings

        try:
            tls_settings.check_files(args.certfile, args.keyfile)
            # May not return: the server starts again with OPENSSL_CONF set (see bastion.hardening.tls).
            tls_settings.reexec_with_openssl_conf(data_dir(), args.argv)
            tls = (os.path.abspath(args.certfile), os.path.abspath(args.keyfile))
            tls_settings.check_groups(tls_settings.server_context(*tls))
        except (tls_settings.TLSConfigError, OSError) as exc:
            fail(f"bastion serve: {exc}")
    _observed(log_format="json", wipe_metrics=True)
    setup()
    from django.conf import settings

    if settings.DEBUG and args.host not in LOOPBACK:
        fail(f"bastion serve: BASTION_DEBUG is on, so it serves only on localhost, not {args.host}")
    _refuse_to_serve_on_check_errors(production=args.host not in LOOPBACK, tls=tls is not None)
    _migrate_before_serving()
    _replay_erasures_before_serving("bastion serve")
    _serve(args.host, args.port, workers=args.workers, with_jobs=not args.no_jobs, tls=tls)


def _refuse_to_serve_on_check_errors(*, production: bool, tls: bool) -> None:
    """The deployment checks, as `bastion config check` runs them: warnings shown, errors refuse the start."""
    from django.conf import settings

    from bastion.commands import config
    from bastion.operations import deployment_checks

    settings.BASTION_PRODUCTION = settings.BASTION_PRODUCTION or production  # reachable by others: production
    settings.BASTION_SERVES_TLS = tls
    report = deployment_checks.run()
    if not report.errors:  # the server starts: its warnings are log lines like the others (JSON in production)
        import logging

        for finding in report.findings:
            logging.getLogger("bastion.config").warning("%s: %s (fix: %s)", finding.id, finding.message,
                                                        finding.hint or "-")
        return
    for finding in report.findings:
        config.show(finding, sys.stderr)
    fail(f"bastion serve: refusing to start: {config.summary(report)} Fix the errors above "
         "(`bastion config check` lists them again).")


def cmd_worker(args) -> None:
    _observed(log_format="json", wipe_metrics=not os.environ.get(EMBEDDED_WORKER))
    setup()
    if not os.environ.get(EMBEDDED_WORKER):  # the server that started it has replayed already
        _replay_erasures_before_serving("bastion worker")
    from django.core.management import call_command

    call_command("run_huey", workers=args.workers)
