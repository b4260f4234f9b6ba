"""The named actions an audit event can record. Apps register theirs at start-up (their
``audit_actions`` module, imported by their AppConfig.ready); an unknown name is refused, so a typo
can never produce events nobody will find."""

from __future__ import annotations

ACTIONS: dict[str, str] = {}


class UnknownAction(ValueError):
    pass


def register(actions: dict[str, str]) -> None:
    for name, description in actions.items():
        if not name or name != name.strip() or " " in name:
            raise ValueError(f"bad action name {name!r}")
        ACTIONS[name] = description


def check(action: str) -> None:
    if action not in ACTIONS:
        raise UnknownAction(f"audit action {action!r} is not registered")


register({
    "audit.verification.passed": "The daily or on-demand verification found the chain intact",
    "audit.verification.failed": "Verification found the chain broken",
    "audit.exported": "The organisation's audit log was exported",
    "audit.signing_key.rotated": "A new key signs checkpoints; the old public key stays published to verify older ones",
})
