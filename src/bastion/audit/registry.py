"""The named actions an audit event can record.

Each app declares its actions in its own ``audit_actions.py`` (imported by its AppConfig.ready),
one constant per action: ``MEMBER_ADDED = action("member.added", "A role was granted to a user")``.
Callers pass the constant, never a typed string, and ``chain.record`` refuses a name nobody
declared, so a typo can never produce events nobody will find.

The naming grammar for new actions (``NAME_GRAMMAR``): two to four lowercase segments joined by
dots, ``domain[.subject[.subject]].outcome``, the last one saying what happened in the past tense
(``scim.user.deactivated``, ``audit.signing_key.rotated``); words inside a segment are joined by
underscores. Names written into chains before the grammar existed (``LEGACY_NAMES``) stay valid:
renaming them would orphan the events that already carry them.
"""

from __future__ import annotations

import re

ACTIONS: dict[str, str] = {}

NAME_GRAMMAR = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,3}$")
# Past participles that do not end in -ed.
IRREGULAR_PAST = frozenset({
    "begun", "bound", "built", "cut", "done", "found", "given", "held", "kept", "lost", "made", "read",
    "reset", "run", "sent", "set", "shown", "taken", "undone", "withdrawn", "written",
})
LEGACY_NAMES = frozenset({
    "auth.logout",
    "auth.signup",
    "auth.session.ended_suspicious",
})


class UnknownAction(ValueError):
    pass


class BadActionName(ValueError):
    pass


def follows_grammar(name: str) -> bool:
    if not NAME_GRAMMAR.match(name):
        return False
    outcome = name.rsplit(".", 1)[1].rsplit("_", 1)[-1]
    return outcome.endswith("ed") or outcome in IRREGULAR_PAST


def action(name: str, description: str) -> str:
    """Declare one audit action and return its name, for the declaring module to export."""
    if not (follows_grammar(name) or name in LEGACY_NAMES):
        raise BadActionName(
            f"audit action {name!r} does not follow the naming grammar "
            "(domain[.subject[.subject]].past_tense_outcome, lowercase; see bastion.audit.registry)"
        )
    if not description.strip():
        raise BadActionName(f"audit action {name!r} needs a description")
    if ACTIONS.get(name, description) != description:
        raise BadActionName(f"audit action {name!r} is declared twice")
    ACTIONS[name] = description
    return name


def check(action_name: str) -> None:
    if action_name not in ACTIONS:
        raise UnknownAction(f"audit action {action_name!r} is not registered")
