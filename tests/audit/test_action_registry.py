"""One way to declare audit actions: each app's ``audit_actions.py``, imported by its AppConfig.ready,
one exported constant per action; callers use the constants; new names follow one grammar."""

from __future__ import annotations

import ast
import importlib
import pathlib
import sys

import pytest

from bastion.audit import registry

SRC = pathlib.Path(__file__).resolve().parents[2] / "src" / "bastion"


def _declaring_modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(SRC.parent).with_suffix("").parts) for path in SRC.rglob("audit_actions.py")
    )


def test_every_app_declares_its_actions_in_audit_actions_modules_loaded_at_start_up():
    modules = _declaring_modules()
    assert {"bastion.audit.audit_actions", "bastion.tenancy.audit_actions", "bastion.identity.audit_actions",
            "bastion.identity.scim.audit_actions", "bastion.records.audit_actions"} <= set(modules)
    # Django is set up by now (pytest-django): every declaring module was imported by an AppConfig.ready.
    assert [m for m in modules if m not in sys.modules] == []


def test_each_action_is_one_exported_constant_and_every_registered_name_has_one():
    exported: dict[str, str] = {}
    for module_name in _declaring_modules():
        module = importlib.import_module(module_name)
        for constant, value in vars(module).items():
            if constant.isupper():
                assert value in registry.ACTIONS, f"{module_name}.{constant} is not registered"
                assert value not in exported, f"{value!r} is declared by {exported.get(value)} and {module_name}"
                exported[value] = module_name
    assert set(exported) == set(registry.ACTIONS)


def test_registered_names_follow_the_grammar_or_were_already_written_in_chains():
    offenders = [n for n in registry.ACTIONS if not registry.follows_grammar(n) and n not in registry.LEGACY_NAMES]
    assert offenders == []
    # The exceptions list only names that exist and really break the grammar.
    assert registry.LEGACY_NAMES <= set(registry.ACTIONS)
    assert not any(registry.follows_grammar(n) for n in registry.LEGACY_NAMES)


@pytest.mark.parametrize("name", [
    "organisation.created", "scim.user.deactivated", "audit.signing_key.rotated", "backup.drill.run",
    "auth.password.reset_requested",
])
def test_the_grammar_accepts_past_tense_outcomes(name):
    assert registry.follows_grammar(name)


@pytest.mark.parametrize("name", [
    "created",  # no domain
    "Organisation.created",  # uppercase
    "organisation created",  # space
    "organisation.create",  # not past tense
    "auth.logout2",
    "a.b.c.d.created",  # too deep
    "organisation..created",
    "organisation.created.",
])
def test_the_grammar_refuses_new_names_that_break_it(name):
    assert not registry.follows_grammar(name)
    with pytest.raises(registry.BadActionName):
        registry.action(name, "a description")
    assert name not in registry.ACTIONS


def test_an_action_cannot_be_declared_twice_with_another_meaning():
    with pytest.raises(registry.BadActionName):
        registry.action("organisation.created", "something else")
    assert registry.action("organisation.created", registry.ACTIONS["organisation.created"]) == "organisation.created"


def test_callers_use_the_constants_never_a_typed_action_name():
    typed = []
    for path in SRC.rglob("*.py"):
        if path.name == "audit_actions.py" or path == SRC / "audit" / "registry.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in registry.ACTIONS:
                typed.append(f"{path.relative_to(SRC)}:{node.lineno}: {node.value!r}")
    assert typed == []
