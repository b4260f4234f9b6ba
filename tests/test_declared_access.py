"""Deny by default: every URL and API operation declares who may use it, and the layers hold."""

from __future__ import annotations

from bastion.api import api
from tests.tenancy.test_isolation_matrix import non_api_patterns

MARKERS = ("required_permission", "requires_authentication", "public")


def test_every_view_declares_its_access():
    undeclared = [route for _, route, pattern in non_api_patterns()
                  if not any(hasattr(pattern.callback, m) for m in MARKERS)]
    assert undeclared == [], f"views without @requires/@authenticated/@public: {undeclared}"


def test_every_api_operation_declares_its_access():
    undeclared = []
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                if not any(hasattr(operation.view_func, m) for m in MARKERS):
                    undeclared.append(f"{operation.methods} {path}")
    assert undeclared == []
