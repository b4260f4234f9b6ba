"""Steps run in an installation's own process (``python -m tests.privacy.ledger_steps STEP``, see
``tests.backups.installation``): erase a person, copy the database aside as a hand-made backup,
and read a person as a database holds them."""

from __future__ import annotations

import json
import os
import sqlite3
import sys


def _erase(email: str) -> dict:
    from django.contrib.auth import get_user_model

    from bastion.privacy import erasure

    user = get_user_model().objects.get(email=email)
    result = erasure.erase_person(user.pk)
    return {"id": user.pk, "erased": [item["what"] for item in result.as_dict()["erased"]]}


def _copy_database(target: str) -> dict:
    """What an operator's own copy of the live file is: SQLite's online backup, taken now."""
    from django.conf import settings

    with sqlite3.connect(settings.DATABASES["default"]["NAME"]) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return {"copied": target}


def _person(user_id: str, database: str = "") -> dict:
    """The person as ``database`` (a restored copy) or the live database holds them."""
    import contextlib
    from pathlib import Path

    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from bastion.backups import restored_database
    from bastion.tenancy.models import Membership

    with restored_database.sqlite(Path(database)) if database else contextlib.nullcontext():
        user = get_user_model().objects.get(pk=int(user_id))
        return {"email": user.email, "first_name": user.first_name, "active": user.is_active,
                "addresses": EmailAddress.objects.filter(user=user).count(),
                "memberships": Membership._base_manager.filter(user=user).count()}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bastion.settings")
    import django

    django.setup()
    from bastion.audit.context import SYSTEM, acting_as

    steps = {"erase": _erase, "copy-database": _copy_database, "person": _person}
    with acting_as(SYSTEM):
        print(json.dumps(steps[argv[0]](*argv[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
