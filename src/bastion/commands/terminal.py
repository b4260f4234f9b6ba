"""What every ``bastion`` command shares: Django set up from the environment, and a one-line failure."""

from __future__ import annotations

import os
import sys


def fail(message: str) -> None:
    """A one-line reason on standard error and exit status 2 (1 is kept for "verification failed")."""
    print(message, file=sys.stderr)
    sys.exit(2)


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bastion.settings")
    from bastion.config import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        fail(f"bastion: configuration error: {exc}")
