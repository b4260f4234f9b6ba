"""``bastion manage scim_token --org SLUG``: make the organisation's SCIM token and print it (once).

For operators setting up provisioning (and for tests of a running server); the previous token is
revoked. ``--revoke`` only revokes. Both are audited as the operator at this terminal.
"""

from __future__ import annotations

import getpass
import os
import socket

from django.core.management.base import BaseCommand, CommandError

from bastion.audit.context import Actor, acting_as
from bastion.identity.scim import tokens
from bastion.tenancy import context
from bastion.tenancy.models import Organisation


def _operator() -> Actor:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = f"uid {os.getuid()}"
    return Actor("operator", name, f"{name}@{socket.gethostname()} (bastion manage scim_token)")


class Command(BaseCommand):
    help = "Make (or with --revoke, revoke) an organisation's SCIM token; a new token is printed once."

    def add_arguments(self, parser):
        parser.add_argument("--org", metavar="SLUG", required=True)
        parser.add_argument("--revoke", action="store_true", help="revoke the live token, make none")

    def handle(self, *args, org: str, revoke: bool, **options):
        with context.platform_scope():
            organisation = Organisation.objects.filter(slug=org).first()
        if organisation is None:
            raise CommandError(f"no organisation {org!r}")
        with acting_as(_operator()), context.tenant_context(organisation.id):
            if revoke:
                if not tokens.revoke(organisation):
                    raise CommandError(f"{org} has no live SCIM token")
                return
            _token, secret = tokens.create(organisation)
        self.stdout.write(secret)
